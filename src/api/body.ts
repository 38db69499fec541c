import type { IncomingMessage } from 'node:http'
import { HttpError } from './http-error.js'

/**
 * Reads a JSON request body of at most `maxBytes`. The limit is checked against
 * Content-Length before reading and against the bytes received while reading, so an
 * oversize body is never buffered whole (413 BODY_TOO_LARGE).
 */
export async function readJsonBody (req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw new HttpError(413, 'BODY_TOO_LARGE', `body is ${declared} bytes; at most ${maxBytes} are accepted`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) throw new HttpError(413, 'BODY_TOO_LARGE', `body is over ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks, size).toString('utf8')
  if (text.trim() === '') throw new HttpError(400, 'BAD_JSON', 'the request body must be JSON')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new HttpError(400, 'BAD_JSON', `the request body is not valid JSON: ${(err as Error).message}`)
  }
}
