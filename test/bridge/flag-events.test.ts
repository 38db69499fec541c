import t from 'tap'
import { statusAfterEvent } from '../../src/bridge/flags.js'

// The fast path decides a flag event from the status before it and the flags it names.
t.test('flags set', async t => {
  t.equal(statusAfterEvent('unread', 'flags-set', '\\Seen'), 'read')
  t.equal(statusAfterEvent('read', 'flags-set', '\\Seen'), 'read')
  t.equal(statusAfterEvent('deleted', 'flags-set', '\\Seen'), 'deleted', '\\Deleted still set')
  t.equal(statusAfterEvent('read', 'flags-set', '\\Deleted'), 'deleted')
  t.equal(statusAfterEvent('unread', 'flags-set', '\\Flagged $Junk'), 'unread', 'flags outside the mapping change nothing')
  t.equal(statusAfterEvent('unread', 'flags-set', '\\seen'), 'read', 'case-insensitive')
})

t.test('flags cleared', async t => {
  t.equal(statusAfterEvent('read', 'flags-clear', '\\Seen'), 'unread')
  t.equal(statusAfterEvent('deleted', 'flags-clear', '\\Seen'), 'deleted', '\\Deleted still set')
  t.equal(statusAfterEvent('deleted', 'flags-clear', '\\Seen \\Deleted'), 'unread')
  t.equal(statusAfterEvent('deleted', 'flags-clear', '\\Deleted'), undefined, '\\Seen unknown: the mailbox is read')
  t.equal(statusAfterEvent('read', 'flags-clear', ''), 'read', 'the empty clear before a set')
})
