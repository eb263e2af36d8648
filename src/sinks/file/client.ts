/**
 * An append-only file with size-based rotation and retention.
 *
 *   append(buf) ──▶ requests.jsonl ── over maxBytes? ──▶ rename .jsonl → .1.jsonl … keep maxFiles
 *
 * I/O errors propagate as they are; the sink classifies them.
 */
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { makeDirs } from '../../core/make-dirs.js';
import { PRIVATE_FILE_MODE } from '../../core/private-files.js';
import type { FileSinkConfig } from './config.js';

export class RotatingFile {
  private handle: FileHandle | undefined;
  private size = 0;

  constructor(private readonly config: FileSinkConfig) {}

  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  async open(): Promise<void> {
    makeDirs(path.dirname(this.config.path));
    // Captured traffic: a new log file is readable by this user only (rotation creates new ones too).
    this.handle = await open(this.config.path, 'a', PRIVATE_FILE_MODE);
    this.size = (await stat(this.config.path)).size;
  }

  async append(buf: Buffer): Promise<void> {
    if (!this.handle) await this.open();
    const handle = this.handle as FileHandle;
    await handle.write(buf);
    if (this.config.fsync) await handle.sync();
    this.size += buf.length;
    if (this.config.maxBytes > 0 && this.size >= this.config.maxBytes) await this.rotate();
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  private async rotate(): Promise<void> {
    await this.close();
    const { path: file, maxFiles } = this.config;
    const ext = path.extname(file);
    const base = file.slice(0, file.length - ext.length);
    const nth = (n: number): string => `${base}.${n}${ext}`;
    if (maxFiles === 0) {
      await rm(file, { force: true });
    } else {
      await rm(nth(maxFiles), { force: true });
      for (let n = maxFiles - 1; n >= 1; n--) await rename(nth(n), nth(n + 1)).catch(() => {});
      await rename(file, nth(1));
    }
    await this.open();
  }
}
