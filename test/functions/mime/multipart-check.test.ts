import fc from 'fast-check';
import type { StructuredHeader } from 'mailparser';
import { describe, expect, it } from 'vitest';

import { PartsCheck } from '../../../functions/mime/multipart-check';

/**
 * The parts check reads the body piece by piece as it streams past the parser (parse.ts). Whatever the piece
 * borders and whenever the Content-Type becomes known, it must decide exactly what one look at the whole body
 * decides (the reference below): refuse a multipart body with content whose boundary never opens a part.
 */
function refusedWhole(body: string, boundary: string | undefined, multipart: boolean): boolean {
  if (!multipart || !/[^ \t\r\n]/.test(body)) return false;
  if (boundary === undefined || boundary === '') return true;
  const delimiter = `--${boundary}`;
  for (let at = body.indexOf(delimiter); at >= 0; at = body.indexOf(delimiter, at + 1)) {
    const atLineStart = at === 0 || body[at - 1] === '\n';
    const isClose = body.startsWith('--', at + delimiter.length);
    if (atLineStart && !isClose) return false;
  }
  return true;
}

function refusedInPieces(
  body: Buffer,
  cuts: number[],
  knownAfter: number,
  boundary: string | undefined,
  multipart: boolean,
): boolean {
  const points = [...new Set(cuts.map((c) => Math.min(c, body.length)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of [...points, body.length]) {
    pieces.push(body.subarray(from, p));
    from = p;
  }
  const contentType: StructuredHeader = {
    value: multipart ? 'multipart/mixed' : 'text/plain',
    params: boundary === undefined ? {} : { boundary },
  };
  const [first, ...rest] = pieces;
  const check = new PartsCheck(first ?? Buffer.alloc(0));
  rest.forEach((piece, i) => {
    if (i === knownAfter) check.know(contentType);
    check.push(piece);
  });
  try {
    check.finish(contentType);
    return false;
  } catch (err) {
    expect(err).toMatchObject({ code: 'MIME_UNPARSEABLE' });
    return true;
  }
}

describe('PartsCheck', () => {
  it('decides as one look at the whole body, wherever the pieces are cut and whenever the type is known', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.constantFrom('-', '-', 'b', 'b', '\n', '\r', ' ', 'x'), { maxLength: 60 })
          .map((a) => a.join('')),
        fc.array(fc.nat({ max: 62 }), { maxLength: 8 }),
        fc.nat({ max: 9 }),
        fc.constantFrom<string | undefined>('b', 'bb', '-b', undefined, ''),
        fc.boolean(),
        (body, cuts, knownAfter, boundary, multipart) => {
          expect(refusedInPieces(Buffer.from(body, 'latin1'), cuts, knownAfter, boundary, multipart)).toBe(
            refusedWhole(body, boundary, multipart),
          );
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('finds a delimiter split over many one-byte pieces, and a close delimiter split the same way is none', () => {
    const opening = Buffer.from('preamble\r\n--boundary\r\npart\r\n');
    const closing = Buffer.from('preamble\r\n--boundary--\r\n');
    const type = { value: 'multipart/mixed', params: { boundary: 'boundary' } };
    for (const [body, refused] of [
      [opening, false],
      [closing, true],
    ] as const) {
      const check = new PartsCheck(Buffer.alloc(0));
      check.know(type);
      for (const byte of body) check.push(Buffer.from([byte]));
      if (refused) expect(() => check.finish(type)).toThrow(/boundary never opens a part/);
      else expect(() => check.finish(type)).not.toThrow();
    }
  });
});
