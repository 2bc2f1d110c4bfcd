/**
 * Draws the Teams app icons into appPackage/:
 *   - color.png   192x192, full colour: a white person with a green "+" badge on indigo.
 *   - outline.png  32x32, white on transparent, alpha only 0 or 255 (Teams requirement).
 *
 * Usage: npm run build && node dist/src/tools/makeIcons.js
 * The generated PNGs are committed; run this again only to change the artwork.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { projectRoot } from '../projectRoot';

export type Rgb = readonly [number, number, number];
/** A shape is a predicate over continuous coordinates (pixel (x, y) covers [x, x+1) x [y, y+1)). */
export type Shape = (x: number, y: number) => boolean;

const INDIGO: Rgb = [80, 89, 201];
const GREEN: Rgb = [19, 161, 106];
const WHITE: Rgb = [255, 255, 255];

export function circle(cx: number, cy: number, r: number): Shape {
  return (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** Upper half of an ellipse centred at (cx, cy): the shoulders of a person. */
export function shoulders(cx: number, cy: number, rx: number, ry: number): Shape {
  return (x, y) => y <= cy && ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
}

export function rect(x0: number, y0: number, x1: number, y1: number): Shape {
  return (x, y) => x >= x0 && x < x1 && y >= y0 && y < y1;
}

export function union(...shapes: Shape[]): Shape {
  return (x, y) => shapes.some((s) => s(x, y));
}

export function minus(a: Shape, b: Shape): Shape {
  return (x, y) => a(x, y) && !b(x, y);
}

/** A plus sign centred at (cx, cy); arm = half length, t = stroke width. */
export function plus(cx: number, cy: number, arm: number, t: number): Shape {
  return union(rect(cx - arm, cy - t / 2, cx + arm, cy + t / 2), rect(cx - t / 2, cy - arm, cx + t / 2, cy + arm));
}

interface Layer {
  shape: Shape;
  color: Rgb;
}

/**
 * Paints layers (later layers on top) with `samples` x `samples` supersampling.
 * A null background leaves uncovered pixels transparent.
 */
export function paint(size: number, background: Rgb | null, layers: Layer[], samples: number): PNG {
  const png = new PNG({ width: size, height: size });
  const n = samples * samples;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = px + (sx + 0.5) / samples;
          const y = py + (sy + 0.5) / samples;
          let color: Rgb | null = background;
          for (const layer of layers) {
            if (layer.shape(x, y)) color = layer.color;
          }
          if (color) {
            r += color[0];
            g += color[1];
            b += color[2];
            a += 1;
          }
        }
      }
      const i = (py * size + px) * 4;
      // Colour is averaged over covered samples only (straight, not premultiplied, alpha).
      png.data[i] = a ? Math.round(r / a) : 0;
      png.data[i + 1] = a ? Math.round(g / a) : 0;
      png.data[i + 2] = a ? Math.round(b / a) : 0;
      png.data[i + 3] = Math.round((255 * a) / n);
    }
  }
  return png;
}

export function renderColorIcon(): PNG {
  const person = union(circle(80, 66, 29), shoulders(80, 156, 56, 58));
  const badge = circle(136, 132, 34);
  const gap = circle(136, 132, 43);
  return paint(
    192,
    INDIGO,
    [
      { shape: minus(person, gap), color: WHITE },
      { shape: badge, color: GREEN },
      { shape: plus(136, 132, 19, 10), color: WHITE },
    ],
    4,
  );
}

export function renderOutlineIcon(): PNG {
  // One sample per pixel: every pixel is either fully white or fully transparent.
  const person = union(circle(12, 10.5, 5.2), shoulders(12, 28, 10, 10));
  const badge = plus(24.5, 20.5, 4.5, 3);
  const gap = circle(24.5, 20.5, 7);
  return paint(32, null, [{ shape: union(minus(person, gap), badge), color: WHITE }], 1);
}

export function writeIcons(outDir: string): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const files: Array<[string, PNG]> = [
    ['color.png', renderColorIcon()],
    ['outline.png', renderOutlineIcon()],
  ];
  return files.map(([name, png]) => {
    const file = path.join(outDir, name);
    fs.writeFileSync(file, PNG.sync.write(png, { colorType: 6 }));
    return file;
  });
}

if (require.main === module) {
  const root = projectRoot(__dirname);
  for (const file of writeIcons(path.join(root, 'appPackage'))) {
    console.log(`wrote ${path.relative(root, file)}`);
  }
}
