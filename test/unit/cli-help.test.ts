// Every subcommand answers --help and -h with its own usage on stdout and
// exit 0, instead of refusing the option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/actorlog.js', import.meta.url));

const cases: [string[], RegExp][] = [
  [['start'], /^ {2}start /m],
  [['ingest'], /ingest \| processor \| query-api/],
  [['processor'], /ingest \| processor \| query-api/],
  [['query-api'], /ingest \| processor \| query-api/],
  [['keys'], /keys generate --emitter ID[\s\S]*keys import --emitter ID/],
  [['keys', 'generate'], /keys generate --emitter ID/],
  [['emit'], /emit --emitter ID --key FILE/],
  [['sign'], /sign --emitter ID --key FILE --seq N/],
  [['mcp-proxy'], /actorlog mcp-proxy --emitter ID --key FILE/],
  [['demo'], /demo \[--endpoint URL\]/],
  [['report'], /report run --id REPORT_ID[\s\S]*report verify --file FILE/],
  [['report', 'run'], /report run --id REPORT_ID/],
  [['log'], /log export[\s\S]*log checkpoint \| log key/],
  [['verify'], /verify --key KEY --checkpoint CP --export FILE/],
  [['witness'], /witness --log URL --log-key KEY --state DIR/],
];

test('every subcommand prints its usage for --help and -h and exits 0', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'actorlog-help-'));
  try {
    for (const [args, usage] of cases) {
      for (const flag of ['--help', '-h']) {
        const r = spawnSync(process.execPath, [bin, ...args, flag], { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8', timeout: 30_000 });
        const what = `actorlog ${[...args, flag].join(' ')}: ${r.stderr}`;
        assert.equal(r.status, 0, what);
        assert.match(r.stdout, usage, what);
        // Only that command's entries, not the whole overview.
        if (args[0] !== 'mcp-proxy') assert.doesNotMatch(r.stdout, args[0] === 'witness' ? /^ {2}start /m : /^ {2}witness /m, what);
      }
    }
    // Nothing was started or written for a --help.
    assert.deepEqual(fs.readdirSync(dataDir), []);
    // After `--` the arguments belong to the proxied server: its --help is not ours.
    const proxied = spawnSync(process.execPath, [bin, 'mcp-proxy', '--', 'node', '--help'], { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(proxied.status, 0, proxied.stdout);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
