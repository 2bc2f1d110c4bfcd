import fs from 'node:fs';
import path from 'node:path';

/** The folder that holds package.json, found upwards from `start` (source or dist/ alike). */
export function projectRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${start}`);
    dir = parent;
  }
}
