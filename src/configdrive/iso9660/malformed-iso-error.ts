import { SECTOR_SIZE } from './encoding.js';

/** What readIso() throws for an image it cannot read, naming where (sector and byte offset within it). */
export class MalformedIsoError extends Error {
  override readonly name = 'MalformedIsoError';
  readonly sector: number;
  readonly offset: number;
  constructor(imageOffset: number, reason: string) {
    const sector = Math.floor(imageOffset / SECTOR_SIZE);
    const offset = imageOffset % SECTOR_SIZE;
    super(`malformed ISO 9660 image at sector ${sector}, offset ${offset}: ${reason}`);
    this.sector = sector;
    this.offset = offset;
  }
}
