import * as fs from 'node:fs';
import * as path from 'node:path';

/** From dist/src/native/ the package root is three levels up; from src/native/, two. */
const ROOT_CANDIDATES = [path.join(__dirname, '..', '..', '..'), path.join(__dirname, '..', '..')];

/** The installed package's directory: a checkout, or lib/node_modules/synscope of a global install. */
export const PACKAGE_ROOT = ROOT_CANDIDATES.find((root) => fs.existsSync(path.join(root, 'native', 'binding.gyp'))) ?? ROOT_CANDIDATES[0]!;

/** `npm ... --prefix` naming the package directory, so one fix line works in a checkout and in a global install. */
export function npmInPackage(args: string): string {
  return `npm ${args} --prefix ${shellWord(PACKAGE_ROOT)}`;
}

function shellWord(text: string): string {
  return /^[\w./+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
