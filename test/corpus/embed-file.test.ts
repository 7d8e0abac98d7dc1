// `ortos-embed embed --input FILE --output FILE` as a user runs it: a real process on real
// files. Each input format round-trips to the vectors `embed` gives the same texts; bad rows stop
// the job with their line number (or are skipped and listed); an interrupted job, by SIGINT or
// kill -9 at any point, resumes and ends with every row exactly once, byte for byte what an
// uninterrupted run writes. The fp32 fixture: batch-invariant, so "the same vector" holds
// whatever rows a vector was batched with.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN } from '../helpers/serve-process.js';
import { preparedFixture } from '../helpers/models.js';

let modelDir: string;
const work = mkdtempSync(join(tmpdir(), 'ortos-corpus-'));
before(async () => {
  modelDir = (await preparedFixture('tiny', 'fp32')).modelDir;
});
after(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[], input?: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, 'embed', '--model-dir', modelDir, '--dtype', 'fp32', ...args], { input, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The vectors `embed TEXT…` prints, one a text: the reference for every file run. */
function vectorsOf(texts: string[]): number[][] {
  const r = run(['--input-type', 'passage', ...texts]);
  assert.equal(r.code, 0, r.err);
  return r.out.trim().split('\n').map((l) => JSON.parse(l) as number[]);
}

function readOutput(path: string): Array<{ id: string | number; embedding: number[] }> {
  return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string | number; embedding: number[] });
}

let n = 0;
function file(name: string, content: string | Buffer): string {
  const dir = join(work, `case-${n++}`);
  spawnSync('mkdir', ['-p', dir]);
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

test('text lines, JSONL and CSV in; JSONL out, in input order, each vector the one embed gives its text', { timeout: 120_000 }, async () => {
  const texts = ['первая строка', 'second line, with a comma', 'third "quoted" line', '東京'];
  const want = vectorsOf(texts);
  const cases: Array<[string, string | Buffer, string[], Array<string | number>]> = [
    // A BOM, CRLF line ends and an empty line between: the ids are the line numbers.
    ['in.txt', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${texts[0]}\r\n${texts[1]}\r\n\r\n${texts[2]}\n${texts[3]}\n`)]), [], [1, 2, 4, 5]],
    ['in.jsonl', texts.map((t, i) => JSON.stringify({ doc: `d${i}`, body: t, extra: [1, 2] })).join('\n') + '\n', ['--text-field', 'body', '--id-field', 'doc'], ['d0', 'd1', 'd2', 'd3']],
    // Quoted fields with a comma, a doubled quote; a BOM; the header names the columns.
    ['in.csv', `\ufeffid,text\n7,${texts[0]}\n8,"${texts[1]}"\n9,"third ""quoted"" line"\n10,${texts[3]}\n`, ['--id-field', 'id'], ['7', '8', '9', '10']],
  ];
  for (const [name, content, flags, ids] of cases) {
    const input = file(name, content);
    const output = join(input, '..', 'out.jsonl');
    const r = run(['--input', input, '--output', output, '--input-type', 'passage', ...flags]);
    assert.equal(r.code, 0, `${name}: ${r.err}`);
    const rows = readOutput(output);
    assert.deepEqual(rows.map((x) => x.id), ids, name);
    assert.deepEqual(rows.map((x) => x.embedding), want, `${name}: the vectors`);
    assert.match(r.err, /4 rows in /);
  }
  // A CSV text with a newline inside quotes is one row.
  const csv = file('nl.csv', 'text\n"two\nlines"\nnext\n');
  const out = join(csv, '..', 'out.jsonl');
  assert.equal(run(['--input', csv, '--output', out, '--input-type', 'passage']).code, 0);
  assert.deepEqual(readOutput(out).map((x) => x.embedding), vectorsOf(['two\nlines', 'next']));
});

test('a bad row stops the job with its line number, keeping the rows before; fixed, the same command finishes the job', { timeout: 120_000 }, async () => {
  const good = Array.from({ length: 10 }, (_, i) => JSON.stringify({ text: `строка ${i}` }));
  const bad: Array<[string | Buffer, RegExp]> = [
    ['{"text": "broken', /:6: not JSON/],
    ['{"other": 1}', /:6: no "text" field/],
    ['{"text": 42}', /:6: "text" is number, not a string/],
    ['', /:6: the line is empty/],
    [JSON.stringify({ text: 'x'.repeat(200) }), /:6: the text is 200 characters, over the limit of 100/],
    [Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]), /:6: the line is not valid UTF-8/],
  ];
  const want = vectorsOf(Array.from({ length: 10 }, (_, i) => `строка ${i}`));
  for (const [row, message] of bad) {
    const lines = [...good.slice(0, 5).map((l) => Buffer.from(l)), Buffer.from(row), ...good.slice(5).map((l) => Buffer.from(l))];
    const input = file('in.jsonl', Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    const output = join(input, '..', 'out.jsonl');
    const r = run(['--input', input, '--output', output, '--input-type', 'passage', '--max-chars', '100', '--batch-rows', '2']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, message);
    assert.match(r.err, /The 5 rows before it are in .*run the same command again to continue/);
    assert.deepEqual(readOutput(output).map((x) => x.embedding), want.slice(0, 5), 'the rows before are kept, once');
    // What a process killed between writing rows and recording them would leave: more than the
    // rest of the job will write. The resume cuts it off.
    appendFileSync(output, `${JSON.stringify({ id: 99, embedding: [1, 2, 3] })}\n`.repeat(400));
    // The row fixed: the job continues from it.
    writeFileSync(input, good.slice(0, 5).join('\n') + '\n' + JSON.stringify({ text: 'исправлено' }) + '\n' + good.slice(5).join('\n') + '\n');
    const again = run(['--input', input, '--output', output, '--input-type', 'passage', '--max-chars', '100', '--batch-rows', '2']);
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /resumed at row 6/);
    const rows = readOutput(output);
    assert.deepEqual(rows.map((x) => x.id), Array.from({ length: 11 }, (_, i) => i + 1));
    assert.deepEqual(rows.map((x) => x.embedding), [...want.slice(0, 5), ...vectorsOf(['исправлено']), ...want.slice(5)]);
  }
});

test('--on-error skip: bad rows are left out and listed with line and reason', { timeout: 60_000 }, async () => {
  const input = file('in.jsonl', ['{"text":"one"}', 'nonsense', '{"text":"two"}', '{"text":""}', '{"text":"three"}'].join('\n') + '\n');
  const output = join(input, '..', 'out.jsonl');
  const r = run(['--input', input, '--output', output, '--input-type', 'passage', '--on-error', 'skip']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /3 rows in .*2 skipped \(listed in .*skipped\.jsonl\)/);
  assert.deepEqual(readOutput(output).map((x) => x.id), [1, 3, 5]);
  const skipped = readFileSync(`${output}.skipped.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; error: string });
  assert.deepEqual(skipped.map((s) => s.line), [2, 4]);
  assert.match(skipped[1].error, /empty/);
});

test('refusals: another job\'s output, a file not written by it, --input without --output; a complete job does nothing', { timeout: 60_000 }, async () => {
  const input = file('in.txt', 'a\nb\n');
  const output = join(input, '..', 'out.jsonl');
  assert.equal(run(['--input', input, '--output', output]).code, 0);
  const done = run(['--input', input, '--output', output]);
  assert.equal(done.code, 0);
  assert.match(done.err, /complete already \(2 rows\); nothing to do/);
  const other = run(['--input', input, '--output', output, '--input-type', 'passage']);
  assert.equal(other.code, 2);
  assert.match(other.err, /is the output of another job/);
  const stranger = file('x.jsonl', 'not ours\n');
  const r = run(['--input', input, '--output', stranger]);
  assert.equal(r.code, 2);
  assert.match(r.err, /exists and was not written by a job of this command/);
  assert.equal(readFileSync(stranger, 'utf8'), 'not ours\n', 'left as it was');
  assert.match(run(['--input', input]).err, /--input and --output go together/);
  assert.match(run(['--input', join(work, 'missing.txt'), '--output', join(work, 'o.jsonl')]).err, /no such file/);
});

for (const [format, extra] of [['jsonl', []], ['npy', ['--output-dtype', 'int8']], ['parquet', ['--output-dtype', 'ubinary']]] as const) {
  test(`${format}${extra.length > 0 ? ` (${extra[1]})` : ''} interrupted by SIGINT and by kill -9 at any point: the same command resumes, and the output is every row once, as an uninterrupted run writes it`, { timeout: 300_000 }, async () => {
    const texts = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: `row-${i}`, text: `текст номер ${i} ${'слово '.repeat(i % 9)}` }));
    const input = file('big.jsonl', texts.join('\n') + '\n');
    const args = ['embed', '--model-dir', modelDir, '--dtype', 'fp32', '--input', input, '--input-type', 'passage', '--id-field', 'id', '--batch-rows', '16', ...extra];
    const whole = join(input, '..', `whole.${format}`);
    assert.equal(spawnSync(process.execPath, [BIN, ...args, '--output', whole]).status, 0);

    const output = join(input, '..', `interrupted.${format}`);
    const progress = `${output}.progress.json`;
    let interruptions = 0;
    // Six interruptions at random moments, then a run left to finish (however fast this machine is).
    for (let attempt = 0; attempt < 7; attempt++) {
      const child = spawn(process.execPath, [BIN, ...args, '--output', output], { stdio: 'ignore' });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      // Wait for some rows (or the end), then stop it at a random moment.
      const before = existsSync(progress) ? (JSON.parse(readFileSync(progress, 'utf8')) as { rows: number }).rows : 0;
      const deadline = Date.now() + (attempt < 6 ? 20_000 : 240_000);
      let finished = false;
      for (;;) {
        if (child.exitCode !== null) {
          finished = true;
          break;
        }
        const rows = existsSync(progress) ? (JSON.parse(readFileSync(progress, 'utf8')) as { rows: number }).rows : 0;
        if ((attempt < 6 && rows > before) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      if (!finished && attempt < 6) {
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 40)));
        child.kill(attempt % 3 === 0 ? 'SIGINT' : 'SIGKILL');
        interruptions++;
      }
      await exited;
      if (existsSync(progress) && (JSON.parse(readFileSync(progress, 'utf8')) as { complete: boolean }).complete) break;
    }
    assert.ok(interruptions >= 3, `${interruptions} interruptions`);
    assert.ok((JSON.parse(readFileSync(progress, 'utf8')) as { complete: boolean }).complete, 'the job ended');
    const pairs: Array<[string, string]> = [[output, whole]];
    if (format === 'npy') pairs.push([output.replace(/\.npy$/, '.ids.jsonl'), whole.replace(/\.npy$/, '.ids.jsonl')]);
    for (const [got, want] of pairs) {
      assert.equal(statSync(got).size, statSync(want).size, got);
      assert.ok(readFileSync(got).equals(readFileSync(want)), `${got}: byte for byte the uninterrupted run's output`);
    }
    if (format === 'parquet') assert.ok(!existsSync(`${output}.partial.npy`) && !existsSync(`${output}.partial.ids.jsonl`), 'the staging files are gone');
  });
}
