import type { IncomingMessage } from 'node:http'
import { HttpError } from './http-error.js'

/**
 * Reads a JSON request body of at most `maxBytes` within `timeoutMs`. The limit is
 * checked against Content-Length before reading and against the bytes received while
 * reading, so an oversize body is never buffered whole (413 BODY_TOO_LARGE); a body
 * that trickles in too slowly gets 408 REQUEST_TIMEOUT instead of holding the request.
 */
export async function readJsonBody (req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<unknown> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw new HttpError(413, 'BODY_TOO_LARGE', `body is ${declared} bytes; at most ${maxBytes} are accepted`)
  }
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const finish = (fn: () => void): void => {
      clearTimeout(timer)
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted)
      fn()
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > maxBytes) finish(() => reject(new HttpError(413, 'BODY_TOO_LARGE', `body is over ${maxBytes} bytes`)))
      else chunks.push(chunk)
    }
    const onEnd = (): void => finish(() => resolve(Buffer.concat(chunks, size).toString('utf8')))
    const onError = (err: Error): void => finish(() => reject(err))
    const onAborted = (): void => finish(() => reject(new HttpError(400, 'BAD_JSON', 'the request was aborted')))
    const timer = setTimeout(() => finish(() => reject(new HttpError(408, 'REQUEST_TIMEOUT', `the body did not arrive within ${timeoutMs} ms`))), timeoutMs)
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted)
  })
  if (text.trim() === '') throw new HttpError(400, 'BAD_JSON', 'the request body must be JSON')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new HttpError(400, 'BAD_JSON', `the request body is not valid JSON: ${(err as Error).message}`)
  }
}
