import { createHash } from 'node:crypto';

/** The SHA-256 of `data` (bytes, or text as UTF-8), lowercase hex: 64 characters. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
