import t from 'tap'
import { parseMesh } from '../../src/config/mesh.js'
import { membersOf } from '../../src/config/retired.js'
import { configCheck } from '../../src/cli/commands/config-check.js'
import type { Io } from '../../src/cli/io.js'
import { MAX_RETIRED_NODES } from '../../src/limits.js'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { tempDir } from '../helpers/tmp.js'
import { twoNodeMesh } from '../helpers/mesh-json.js'

function mesh (retired: unknown): Record<string, unknown> {
  return twoNodeMesh({ retired })
}

t.test('retired: distinct ids of former members, none of them a current node', async tt => {
  const ok = parseMesh(mesh(['old-1', 'old.2']), '/')
  tt.same(ok.problems.lines(), [])
  tt.same(ok.mesh.retired, ['old-1', 'old.2'])
  tt.same([...membersOf(ok.mesh)].sort(), ['a', 'b', 'old-1', 'old.2'])
  tt.same(parseMesh(mesh(undefined), '/').mesh.retired, [], 'absent: none retired')

  const bad = parseMesh(mesh(['old', 'a', 'old', 'no/slash', 7]), '/')
  tt.same(bad.mesh.retired, ['old'], 'only the valid ids are kept')
  tt.match(bad.problems.lines(), [
    /^retired\[1\]: "a" is also nodes\[0\]/,
    /^retired\[2\]: "old" is listed twice/,
    /^retired\[3\]: node id must match/,
    /^retired\[4\]: node id must be a string/
  ])
  tt.match(parseMesh(mesh('old'), '/').problems.lines(), [/^retired: must be an array of at most/])
  const many = Array.from({ length: MAX_RETIRED_NODES + 1 }, (_, i) => `n${i}`)
  tt.match(parseMesh(mesh(many), '/').problems.lines(), [new RegExp(`at most ${MAX_RETIRED_NODES} node ids`)])
})

t.test('config check lists the retired hosts', async tt => {
  const dir = await tempDir(tt)
  const file = join(dir, 'mesh.json')
  await writeFile(file, JSON.stringify(mesh(['old-1'])))
  const out: string[] = []
  const err: string[] = []
  const io: Io = { out: s => { out.push(s) }, err: s => { err.push(s) } }
  process.env.S = 'a-cluster-secret-of-enough-bytes'
  tt.teardown(() => { delete process.env.S })
  tt.equal(configCheck({ file }, io), 0, err.join('\n'))
  tt.match(out.join('\n'), /retired \(no links; their changes stay valid\): old-1/)
  out.length = 0
  tt.equal(configCheck({ file, json: true }, io), 0)
  tt.same(JSON.parse(out.join('')).retired, ['old-1'])
})
