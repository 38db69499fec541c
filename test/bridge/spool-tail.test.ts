import t from 'tap'
import { appendFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SpoolTail, type SpoolCheckpoint } from '../../src/bridge/spool-tail.js'
import { tempDir } from '../helpers/tmp.js'
import { waitFor } from '../helpers/wait.js'

function tail (path: string, lines: string[], checkpoint?: SpoolCheckpoint): { tail: SpoolTail, saved: SpoolCheckpoint[], rotated: number[] } {
  const saved: SpoolCheckpoint[] = []
  const rotated: number[] = []
  const spool = new SpoolTail({
    path,
    ...(checkpoint !== undefined ? { checkpoint } : {}),
    onLines: async batch => { lines.push(...batch) },
    onCheckpoint: cp => saved.push(cp),
    onRotated: () => rotated.push(Date.now()),
    onError: err => { throw err }
  })
  return { tail: spool, saved, rotated }
}

t.test('whole lines only, resumed at the checkpoint, followed across a rotation', async tt => {
  const dir = await tempDir(tt)
  const path = join(dir, 'events.log')
  await writeFile(path, 'one\ntwo\nthr')
  const lines: string[] = []
  const first = tail(path, lines)
  tt.teardown(async () => await first.tail.stop())
  first.tail.start()
  await waitFor(() => lines.length === 2, { what: 'the two whole lines' })
  await appendFile(path, 'ee\n')
  await waitFor(() => lines.length === 3, { what: 'the completed third line' })
  tt.same(lines, ['one', 'two', 'three'])
  await first.tail.stop()

  // A restart resumes after the last line handled: nothing twice.
  await appendFile(path, 'four\n')
  const checkpoint = first.saved[first.saved.length - 1] as SpoolCheckpoint
  const again: string[] = []
  const second = tail(path, again, checkpoint)
  tt.teardown(async () => await second.tail.stop())
  second.tail.start()
  await waitFor(() => again.length === 1, { what: 'the line written while stopped' })
  tt.same(again, ['four'])

  // Moved aside: a late write to the old file and the new file's lines are both read.
  await rename(path, `${path}.1`)
  await writeFile(path, 'five\n')
  await waitFor(() => second.rotated.length === 1, { what: 'the rotation' })
  await appendFile(`${path}.1`, 'late\n')
  await waitFor(() => again.length === 3, { what: 'the late line and the new file' })
  tt.same(again.sort(), ['five', 'four', 'late'])
  tt.equal(second.tail.rotations, 1)
})

t.test('a checkpoint of another file (rotated while stopped) starts the new file at 0', async tt => {
  const dir = await tempDir(tt)
  const path = join(dir, 'events.log')
  await writeFile(path, 'a\nb\n')
  const lines: string[] = []
  const { tail: spool } = tail(path, lines, { ino: 1, offset: 2 })
  tt.teardown(async () => await spool.stop())
  spool.start()
  await waitFor(() => lines.length === 2, { what: 'both lines' })
  tt.same(lines, ['a', 'b'])
})
