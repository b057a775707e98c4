/**
 * Python's base64.b64decode(text) without validate=True, as Nova decodes user_data
 * (oslo_serialization.base64.decode_as_bytes) and injected files (compute/manager.py _decode_files):
 * binascii.a2b_base64 in non-strict mode (CPython 3.11). Characters outside the alphabet are skipped, a
 * complete padding ends the data (whatever follows is ignored), and only a bad final quantum is an error.
 * Node's Buffer.from(text, 'base64') never fails, so it cannot tell which requests Nova would refuse.
 */

export type Base64Result = { bytes: Buffer } | { error: string };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SEXTET = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) SEXTET[ALPHABET.charCodeAt(i)] = i;
const PAD = 0x3d;

export function pythonB64Decode(text: string): Base64Result {
  // str arguments go through str.encode('ascii') first.
  if (/[^\x00-\x7f]/.test(text)) return { error: 'string argument should contain only ASCII characters' };

  const out = Buffer.alloc(Math.ceil((text.length * 3) / 4));
  let length = 0;
  let quadPosition = 0;
  let leftover = 0;
  let pads = 0;
  let dataCharacters = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === PAD) {
      if (quadPosition >= 2 && quadPosition + ++pads >= 4) return { bytes: out.subarray(0, length) };
      continue;
    }
    const sextet = SEXTET[code]!;
    if (sextet < 0) continue;
    pads = 0;
    dataCharacters++;
    switch (quadPosition) {
      case 0:
        leftover = sextet;
        break;
      case 1:
        out[length++] = (leftover << 2) | (sextet >> 4);
        leftover = sextet & 0x0f;
        break;
      case 2:
        out[length++] = (leftover << 4) | (sextet >> 2);
        leftover = sextet & 0x03;
        break;
      default:
        out[length++] = (leftover << 6) | sextet;
    }
    quadPosition = (quadPosition + 1) % 4;
  }
  if (quadPosition === 1) {
    return { error: `number of data characters (${dataCharacters}) cannot be 1 more than a multiple of 4` };
  }
  if (quadPosition !== 0) return { error: 'incorrect padding' };
  return { bytes: out.subarray(0, length) };
}
