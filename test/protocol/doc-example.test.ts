/**
 * The examples of docs/protocol.md are part of the specification: every ```hex block
 * followed by a ```json block must decode (with a plain msgpack decoder) to that JSON,
 * pass our validator, and re-encode to exactly those bytes.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Unpackr } from 'msgpackr'
import { decodeFrame, encodeFrame } from '../../src/protocol/index.js'

const doc = readFileSync(fileURLToPath(new URL('../../docs/protocol.md', import.meta.url)), 'utf8')
const plain = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' })
const EXAMPLE = /```hex\n([\s\S]*?)```\s*```json\n([\s\S]*?)```/g

const examples = [...doc.matchAll(EXAMPLE)].map(m => ({ hex: m[1].replace(/\s+/g, ''), json: JSON.parse(m[2]) as unknown }))

t.ok(examples.length >= 3, `found ${examples.length} examples`)

for (const { hex, json } of examples) {
  t.test(`example ${JSON.stringify(json).slice(0, 40)}`, async t => {
    const bytes = Buffer.from(hex, 'hex')
    t.equal(bytes.toString('hex'), hex, 'hex is well formed')
    t.same(plain.unpack(bytes), json, 'decodes to the JSON shown')
    const frame = decodeFrame(bytes)
    t.equal(encodeFrame(frame).toString('hex'), hex, 'encodes to the bytes shown')
  })
}
