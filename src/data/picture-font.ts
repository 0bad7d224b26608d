// A small bitmap font, so the visualize app can label its pictures without a canvas package: 5 pixels
// wide, 7 tall for capitals and digits, with 2 more rows below the baseline for descenders (g, j, p,
// q, y, comma). Each glyph is written as it looks ('#' ink, '.' none) and parsed once at load.
// Covers 0-9, A-Z, a-z, space and . , : ; % ( ) [ ] - + = / _ ' " ? ! # < > * | x-sign; any other
// character is drawn as a hollow box, so a missing glyph is visible rather than silently dropped.

import { type Color, fillRect, type Image } from "./picture-raster.ts";

/** Glyph cell: 5 wide; 9 tall (rows 0-6 above the baseline, 7-8 descenders). */
export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 9;
/** Capital and digit height: text placed at y occupies rows y .. y + 7 * scale, descenders below. */
export const CAP_HEIGHT = 7;
/** Horizontal advance per character: the glyph plus one column of space. */
export const ADVANCE = GLYPH_WIDTH + 1;
/** Vertical advance per line: the glyph cell plus one row. */
export const LINE_HEIGHT = GLYPH_HEIGHT + 1;

// Blocks of up to ten glyphs side by side: a line naming them (each name above its glyph's first
// column, glyphs 6 columns apart), then the 9 rows of all of them, top first; blank lines between blocks.
const GLYPH_SOURCE = `
0     1     2     3     4     5     6     7     8     9
.###. ..#.. .###. ##### ...#. ##### ..##. ##### .###. .###.
#...# .##.. #...# ...#. ..##. #.... .#... ....# #...# #...#
#..## ..#.. ....# ..#.. .#.#. ####. #.... ...#. #...# #...#
#.#.# ..#.. ...#. ...#. #..#. ....# ####. ..#.. .###. .####
##..# ..#.. ..#.. ....# ##### ....# #...# .#... #...# ....#
#...# ..#.. .#... #...# ...#. #...# #...# .#... #...# ...#.
.###. .###. ##### .###. ...#. .###. .###. .#... .###. .##..
..... ..... ..... ..... ..... ..... ..... ..... ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... .....

A     B     C     D     E     F     G     H     I     J
.###. ####. .###. ###.. ##### ##### .###. #...# .###. ..###
#...# #...# #...# #..#. #.... #.... #...# #...# ..#.. ...#.
#...# #...# #.... #...# #.... #.... #.... #...# ..#.. ...#.
##### ####. #.... #...# ####. ####. #.### ##### ..#.. ...#.
#...# #...# #.... #...# #.... #.... #...# #...# ..#.. ...#.
#...# #...# #...# #..#. #.... #.... #...# #...# ..#.. #..#.
#...# ####. .###. ###.. ##### #.... .#### #...# .###. .##..
..... ..... ..... ..... ..... ..... ..... ..... ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... .....

K     L     M     N     O     P     Q     R     S     T
#...# #.... #...# #...# .###. ####. .###. ####. .#### #####
#..#. #.... ##.## #...# #...# #...# #...# #...# #.... ..#..
#.#.. #.... #.#.# ##..# #...# #...# #...# #...# #.... ..#..
##... #.... #.#.# #.#.# #...# ####. #...# ####. .###. ..#..
#.#.. #.... #...# #..## #...# #.... #.#.# #.#.. ....# ..#..
#..#. #.... #...# #...# #...# #.... #..#. #..#. ....# ..#..
#...# ##### #...# #...# .###. #.... .##.# #...# ####. ..#..
..... ..... ..... ..... ..... ..... ..... ..... ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... .....

U     V     W     X     Y     Z     a     b     c     d
#...# #...# #...# #...# #...# ##### ..... #.... ..... ....#
#...# #...# #...# #...# #...# ....# ..... #.... ..... ....#
#...# #...# #...# .#.#. .#.#. ...#. .###. #.##. .###. .##.#
#...# #...# #.#.# ..#.. ..#.. ..#.. ....# ##..# #.... #..##
#...# #...# #.#.# .#.#. ..#.. .#... .#### #...# #.... #...#
#...# .#.#. #.#.# #...# ..#.. #.... #...# #...# #...# #...#
.###. ..#.. .#.#. #...# ..#.. ##### .#### ####. .###. .####
..... ..... ..... ..... ..... ..... ..... ..... ..... .....
..... ..... ..... ..... ..... ..... ..... ..... ..... .....

e     f     g     h     i     j     k     l     m     n
..... ..##. ..... #.... ..#.. ...#. #.... .##.. ..... .....
..... .#..# ..... #.... ..... ..... #.... ..#.. ..... .....
.###. .#... .#### #.##. .##.. ..##. #..#. ..#.. ##.#. #.##.
#...# ###.. #...# ##..# ..#.. ...#. #.#.. ..#.. #.#.# ##..#
##### .#... #...# #...# ..#.. ...#. ##... ..#.. #.#.# #...#
#.... .#... .#### #...# ..#.. ...#. #.#.. ..#.. #.#.# #...#
.###. .#... ....# #...# .###. ...#. #..#. .###. #.#.# #...#
..... ..... #...# ..... ..... #..#. ..... ..... ..... .....
..... ..... .###. ..... ..... .##.. ..... ..... ..... .....

o     p     q     r     s     t     u     v     w     x
..... ..... ..... ..... ..... .#... ..... ..... ..... .....
..... ..... ..... ..... ..... .#... ..... ..... ..... .....
.###. ####. .#### #.##. .#### ###.. #...# #...# #...# #...#
#...# #...# #...# ##..# #.... .#... #...# #...# #...# .#.#.
#...# #...# #...# #.... .###. .#... #...# #...# #.#.# ..#..
#...# ####. .#### #.... ....# .#..# #..## .#.#. #.#.# .#.#.
.###. #.... ....# #.... ####. ..##. .##.# ..#.. .#.#. #...#
..... #.... ....# ..... ..... ..... ..... ..... ..... .....
..... #.... ....# ..... ..... ..... ..... ..... ..... .....

y     z     .     ,     :     ;     %     (     )     [
..... ..... ..... ..... ..... ..... ##... ...#. .#... .###.
..... ..... ..... ..... .##.. .##.. ##..# ..#.. ..#.. .#...
#...# ##### ..... ..... .##.. .##.. ...#. .#... ...#. .#...
#...# ...#. ..... ..... ..... ..... ..#.. .#... ...#. .#...
#...# ..#.. ..... ..... .##.. .##.. .#... .#... ...#. .#...
.#### .#... .##.. .##.. .##.. .##.. #..## ..#.. ..#.. .#...
....# ##### .##.. .##.. ..... ..#.. ...## ...#. .#... .###.
#...# ..... ..... ..#.. ..... .#... ..... ..... ..... .....
.###. ..... ..... .#... ..... ..... ..... ..... ..... .....

]     -     +     =     /     _     '     "     ?     !
.###. ..... ..... ..... ..... ..... ..#.. .#.#. .###. ..#..
...#. ..... ..#.. ..... ....# ..... ..#.. .#.#. #...# ..#..
...#. ..... ..#.. ##### ...#. ..... .#... .#.#. ....# ..#..
...#. ##### ##### ..... ..#.. ..... ..... ..... ...#. ..#..
...#. ..... ..#.. ##### .#... ..... ..... ..... ..#.. ..#..
...#. ..... ..#.. ..... #.... ..... ..... ..... ..... .....
.###. ..... ..... ..... ..... ..... ..... ..... ..#.. ..#..
..... ..... ..... ..... ..... ..... ..... ..... ..... .....
..... ..... ..... ..... ..... ##### ..... ..... ..... .....

#     <     >     *     |     ×
.#.#. ...#. .#... ..... ..#.. .....
.#.#. ..#.. ..#.. ..#.. ..#.. #...#
##### .#... ...#. #.#.# ..#.. .#.#.
.#.#. #.... ....# .###. ..#.. ..#..
##### .#... ...#. #.#.# ..#.. .#.#.
.#.#. ..#.. ..#.. ..#.. ..#.. #...#
.#.#. ...#. .#... ..... ..#.. .....
..... ..... ..... ..... ..#.. .....
..... ..... ..... ..... ..#.. .....
`;

const parseGlyphs = (source: string): Map<string, Uint8Array> => {
  const glyphs = new Map<string, Uint8Array>([[" ", new Uint8Array(GLYPH_HEIGHT)]]);
  for (const block of source.trim().split(/\n\s*\n/)) {
    const [names = "", ...rows] = block.split("\n");
    if (rows.length !== GLYPH_HEIGHT) throw new Error(`picture-font: the block "${names.trim()}" has ${rows.length} rows, expected ${GLYPH_HEIGHT}`);
    for (let k = 0; k * ADVANCE < names.length; k++) {
      const name = names[k * ADVANCE]!;
      const bits = rows.map((row) => {
        const cells = row.slice(k * ADVANCE, k * ADVANCE + GLYPH_WIDTH);
        if (!/^[.#]{5}$/.test(cells)) throw new Error(`picture-font: glyph "${name}" has the row "${cells}", expected 5 of '.' or '#'`);
        return parseInt(cells.replaceAll("#", "1").replaceAll(".", "0"), 2);
      });
      glyphs.set(name, Uint8Array.from(bits));
    }
  }
  return glyphs;
};

const GLYPHS = parseGlyphs(GLYPH_SOURCE);

/** Drawn for characters the font lacks: a hollow box the size of a capital. */
const MISSING = Uint8Array.of(0x1f, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1f, 0, 0);

/** The characters the font can draw. */
export const FONT_CHARACTERS: readonly string[] = [...GLYPHS.keys()];

/** The glyph of a character as 9 rows of 5 bits (bit 4 is the leftmost column). */
export const glyph = (ch: string): Uint8Array => GLYPHS.get(ch) ?? MISSING;

const lines = (text: string): string[] => text.split("\n");

/** Width in pixels of `text` drawn at `scale`: its longest line, without the space after the last character. */
export const textWidth = (text: string, scale = 1): number =>
  Math.max(...lines(text).map((line) => {
    const n = [...line].length;
    return n === 0 ? 0 : (n * ADVANCE - 1) * Math.max(1, Math.round(scale));
  }));

/** Height in pixels of `lineCount` lines at `scale`, descenders of the last line included. */
export const textHeight = (scale = 1, lineCount = 1): number => ((Math.max(1, lineCount) - 1) * LINE_HEIGHT + GLYPH_HEIGHT) * Math.max(1, Math.round(scale));

/** How many lines `text` has ("\n" starts a new one). */
export const lineCount = (text: string): number => lines(text).length;

export type Align = "left" | "center" | "right";

const drawLine = (img: Image, left: number, top: number, line: string, color: Color, s: number): void => {
  let cx = left;
  for (const ch of line) {
    const rows = glyph(ch);
    for (let r = 0; r < GLYPH_HEIGHT; r++) {
      const bits = rows[r]!;
      if (bits === 0) continue;
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        if (bits & (1 << (GLYPH_WIDTH - 1 - c))) fillRect(img, cx + c * s, top + r * s, s, s, color);
      }
    }
    cx += ADVANCE * s;
  }
};

/**
 * Draws `text` with x the left edge, the centre or the right edge of each line (align) and y the
 * top of the first line; "\n" starts a new line. Each font pixel is a scale x scale square, clipped
 * to the image. Returns the image (drawn into, like the other primitives).
 */
export const drawTextAligned = (img: Image, x: number, y: number, text: string, color: Color, scale = 1, align: Align = "left"): Image => {
  const s = Math.max(1, Math.round(scale));
  lines(text).forEach((line, k) => {
    const w = textWidth(line, s);
    const left = align === "left" ? x : align === "center" ? x - w / 2 : x - w;
    drawLine(img, Math.round(left), Math.round(y) + k * LINE_HEIGHT * s, line, color, s);
  });
  return img;
};

/** Draws `text` with its top-left corner at (x, y); see drawTextAligned. */
export const drawText = (img: Image, x: number, y: number, text: string, color: Color, scale = 1): Image =>
  drawTextAligned(img, x, y, text, color, scale, "left");
