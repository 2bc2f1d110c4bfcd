/** Reading the simulator's request log in tests. */
import type { RequestLogEntry } from '../../src/simulator';

/** Read actions sent as POST (directoryobject-checkmembergroups.md): they change nothing. */
const READ_ACTIONS = /\/(checkMemberGroups|checkMemberObjects|getMemberGroups|getMemberObjects)(\?|$)/i;

/** A request that changes the directory: not a GET, not the `$batch` envelope, not a read action. */
export function isDirectoryWrite(entry: Pick<RequestLogEntry, 'method' | 'url'>): boolean {
  return (
    entry.method !== 'GET' &&
    !/^\/v1\.0\/\$batch\/?(\?|$)/i.test(entry.url) &&
    !READ_ACTIONS.test(entry.url.split('?')[0])
  );
}
