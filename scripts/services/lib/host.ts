/** Facts about this machine that decide whether services can be installed and started here. */
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Pure: does /etc/os-release describe Debian or a derivative (Ubuntu, ...)? */
export function isDebianLikeOsRelease(osRelease: string): boolean {
  const fields = new Map<string, string>();
  for (const line of osRelease.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) fields.set(m[1]!, m[2]!.replace(/^["']|["']$/g, ''));
  }
  const ids = [fields.get('ID') ?? '', ...(fields.get('ID_LIKE') ?? '').split(/\s+/)];
  return ids.some((id) => id === 'debian' || id === 'ubuntu');
}

/** A one-line description of the OS for messages, e.g. "Debian GNU/Linux 12 (bookworm)". */
export async function osDescription(): Promise<{ debianLike: boolean; name: string }> {
  const text = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const name = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)?.[1] ?? process.platform;
  return { debianLike: isDebianLikeOsRelease(text), name };
}

/**
 * The first executable called `name` on PATH or in `extraDirs`. The extra directories matter
 * because CI may run with a PATH that lacks /usr/sbin, where Debian puts dockerd.
 */
export async function findExecutable(name: string, extraDirs: string[] = []): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

export async function fileExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export type ElfLinkage = 'static' | 'dynamic' | 'not-elf';

/**
 * Pure: an ELF executable is dynamically linked exactly when it has a PT_INTERP program header
 * (the path of the dynamic loader). The test image holds nothing but busybox, so it must be static.
 */
export function elfLinkage(bytes: Uint8Array): ElfLinkage {
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    return 'not-elf';
  }
  const is64 = bytes[4] === 2;
  const little = bytes[5] === 1;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const phoff = is64 ? Number(view.getBigUint64(0x20, little)) : view.getUint32(0x1c, little);
  const phentsize = view.getUint16(is64 ? 0x36 : 0x2a, little);
  const phnum = view.getUint16(is64 ? 0x38 : 0x2c, little);
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > bytes.length) return 'not-elf';
    if (view.getUint32(at, little) === PT_INTERP) return 'dynamic';
  }
  return 'static';
}

export const BUSYBOX_PATH = '/bin/busybox';

export async function busyboxLinkage(path = BUSYBOX_PATH): Promise<ElfLinkage | 'missing'> {
  try {
    return elfLinkage(await readFile(path));
  } catch {
    return 'missing';
  }
}
