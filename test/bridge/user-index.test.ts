import t from 'tap'
import { UserIndex, storesToWinners } from '../../src/bridge/user-index.js'

const where = (index: UserIndex, id: string): string[] => index.copies(id).map(c => `${c.mailbox.name}/${c.uid}:${c.state.status}`).sort()

t.test('every copy of a Message-ID is found, across mailboxes, through re-reads, id changes and expunges', async t => {
  const index = new UserIndex('alice')
  const inbox = index.resetMailbox('INBOX', 1)
  const archive = index.resetMailbox('Archive', 7)
  index.set(inbox, 1, { id: '<a@x>', status: 'unread' })
  index.set(archive, 40, { id: '<a@x>', status: 'read' })
  index.set(inbox, 2, { id: '<b@x>', status: 'unread' })
  index.set(inbox, 3, { id: undefined, status: 'unread' })
  t.same(where(index, '<a@x>'), ['Archive/40:read', 'INBOX/1:unread'], 'one message in two mailboxes')

  // The same copy read again (a status change) is still one copy, not two.
  index.set(inbox, 1, { id: '<a@x>', status: 'read' })
  index.set(inbox, 1, { id: '<a@x>', status: 'read' })
  t.same(where(index, '<a@x>'), ['Archive/40:read', 'INBOX/1:read'], 'a re-read copy is listed once')

  // A UID whose Message-ID changed (seen first without a header, then with one) moves to the new id.
  index.set(inbox, 3, { id: '<c@x>', status: 'unread' })
  index.set(inbox, 2, { id: '<c@x>', status: 'unread' })
  t.same(where(index, '<b@x>'), [], 'the old id has no copy left')
  t.same(where(index, '<c@x>'), ['INBOX/2:unread', 'INBOX/3:unread'], 'the new id has both')

  t.same(index.remove(archive, 40), { id: '<a@x>', status: 'read' }, 'remove returns what was there')
  t.equal(index.remove(archive, 40), undefined, 'a second remove finds nothing')
  t.same(where(index, '<a@x>'), ['INBOX/1:read'], 'an expunged copy is gone')

  // A UIDVALIDITY change empties the mailbox: none of its copies stays known.
  const fresh = index.resetMailbox('INBOX', 2)
  t.equal(fresh.messages.size, 0, 'the new mailbox is empty')
  t.same(where(index, '<a@x>'), [], 'copies under the old UIDVALIDITY are forgotten')
  t.same(where(index, '<c@x>'), [], 'all of them')
  t.ok(fresh.dirty.has(1) && fresh.dirty.has(3), 'the old rows are marked for removal on the next save')
})

t.test('storesToWinners groups the copies to change by mailbox and (from, to)', async t => {
  const index = new UserIndex('bob')
  const inbox = index.resetMailbox('INBOX', 1)
  const sent = index.resetMailbox('Sent', 1)
  index.set(inbox, 1, { id: '<1>', status: 'unread' })
  index.set(inbox, 2, { id: '<2>', status: 'unread' })
  index.set(inbox, 3, { id: '<3>', status: 'deleted' })
  index.set(inbox, 4, { id: '<4>', status: 'read' })
  index.set(sent, 9, { id: '<1>', status: 'read' })
  const winners = new Map([['<1>', 'read'], ['<2>', 'read'], ['<3>', 'read'], ['<4>', 'read'], ['<5>', 'read']] as const)
  const byBox = storesToWinners(index, ['<1>', '<2>', '<3>', '<4>', '<5>', '<6>'], new Map([...winners, ['<6>', undefined]]))
  t.same([...byBox.keys()].map(box => box.name), ['INBOX'], 'only mailboxes with a copy to change')
  t.same(byBox.get(inbox), [{ from: 'unread', to: 'read', uids: [1, 2] }, { from: 'deleted', to: 'read', uids: [3] }], 'one group per (from, to)')
})
