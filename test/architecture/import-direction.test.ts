/**
 * The import directions of docs/architecture.md are enforced: lint (eslint.config.js, `LAYERS`)
 * rejects an import that goes against the data flow. `npm run lint` applies it to the whole tree.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/peers.js';

const eslint = new ESLint({ cwd: REPO_ROOT });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import directions', { timeout: 60_000 }, () => {
  it.each([
    ['src/formats/x.ts', "import { createCaptureProxy } from '../capture/proxy.js';"],
    ['src/sinks/http/x.ts', "import type { Settings } from '../../config/settings.js';"],
    ['src/pipeline/x.ts', "import { createSinkFor } from '../sinks/registry.js';"],
    ['src/store/x.ts', "import { startCollector } from '../collector/server.js';"],
    ['src/config/x.ts', "import { createHttpSink } from '../sinks/http/sink.js';"],
    ['src/core/x.ts', "import { encodeBinary } from '../formats/cloudevents.js';"],
    ['src/replay/x.ts', "import { createSqliteStore } from '../store/sqlite-store.js';"],
  ])('rejects %s: %s', async (file, code) => {
    const found = await problems(file, code);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/imports go with the data flow/);
  });

  it.each([
    ['src/pipeline/x.ts', "import type { Sink } from '../sinks/sink.js';"],
    ['src/config/x.ts', "import { sinkUrlProblem } from '../sinks/schemes.js';"],
    ['src/collector/x.ts', "import { toListItem } from '../api/view.js';"],
    ['src/cli/x.ts', "import { startCollector } from '../collector/server.js';"],
  ])('allows %s: %s', async (file, code) => {
    expect(await problems(file, code)).toEqual([]);
  });
});
