/**
 * webob's Accept.acceptable_offers() (RFC 7231 section 5.3.2), which picks the format of Nova's error
 * bodies: each offer takes the q of the most specific media range that matches it, offers with q 0 drop
 * out, the rest sort by q (ties in offer order). No header at all is an empty one (WSGI's default), which
 * accepts nothing; a header webob cannot parse accepts everything.
 */

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[^"\\\\]|\\\\.)*"';
const PARAMETER = new RegExp(`^(${TOKEN})\\s*=\\s*(${TOKEN}|${QUOTED})$`);
const MEDIA_RANGE = new RegExp(`^(${TOKEN})/(${TOKEN})$`);
const QVALUE = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;

interface MediaRange {
  type: string;
  subtype: string;
  /** Media type parameters (before q), lower-cased names. */
  params: readonly string[];
  q: number;
}

function parseMediaRange(element: string): MediaRange | null {
  const [range, ...rawParams] = element.split(';').map((part) => part.trim());
  const match = MEDIA_RANGE.exec(range!);
  if (!match) return null;
  const params: string[] = [];
  let q = 1;
  for (const raw of rawParams) {
    const param = PARAMETER.exec(raw);
    if (!param) return null;
    if (param[1]!.toLowerCase() === 'q') {
      if (!QVALUE.test(param[2]!)) return null;
      q = Number(param[2]);
      break;
    }
    params.push(`${param[1]!.toLowerCase()}=${param[2]}`);
  }
  return { type: match[1]!.toLowerCase(), subtype: match[2]!.toLowerCase(), params, q };
}

/**
 * null when webob would call the header invalid. Its list grammar (RFC 7230's #rule, as webob reads it):
 * the first item is an element or a lone ",", and every later "," may be followed by an element.
 */
function parseAccept(header: string): MediaRange[] | null {
  if (header === '') return [];
  const pieces = header.split(',');
  const ranges: MediaRange[] = [];
  for (const [index, piece] of pieces.entries()) {
    const isLast = index === pieces.length - 1;
    if ((index === 0 && /^\s/.test(piece)) || (isLast && /\s$/.test(piece))) return null;
    const element = piece.trim();
    if (element === '') {
      if (index === 0 && isLast) return null;
      continue;
    }
    // After a leading lone ",", the next item must be empty.
    if (index === 1 && pieces[0] === '') return null;
    const range = parseMediaRange(element);
    if (range === null) return null;
    ranges.push(range);
  }
  return ranges;
}

function specificity(range: MediaRange, type: string, subtype: string): number {
  if (range.type === type && range.subtype === subtype) return range.params.length === 0 ? 3 : 0;
  if (range.type === type && range.subtype === '*') return 2;
  return range.type === '*' && range.subtype === '*' ? 1 : 0;
}

/** The offers (parameterless "type/subtype") the header accepts, most preferred first. */
export function acceptableOffers<T extends string>(header: string, offers: readonly T[]): T[] {
  const ranges = parseAccept(header);
  if (ranges === null) return [...offers];
  const rated: { offer: T; q: number }[] = [];
  for (const offer of offers) {
    const [type, subtype] = offer.split('/') as [string, string];
    let best = { specificity: 0, q: 0 };
    for (const range of ranges) {
      const s = specificity(range, type, subtype);
      if (s > best.specificity) best = { specificity: s, q: range.q };
    }
    if (best.q > 0) rated.push({ offer, q: best.q });
  }
  return rated.sort((a, b) => b.q - a.q).map(({ offer }) => offer);
}
