/**
 * Checks every ledger file under generated/optimizer/ledger, line by line, so
 * that `llmops validate` and `synth --check` name a damaged line (file and
 * line) before the bot meets it; the bot itself skips only the deployment
 * whose ledger is damaged.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DeclarationIssue } from '../declarations/issues.ts';
import { LEDGER_DIR, readLedgerLines } from './ledger.ts';

export async function ledgerProblems(root: string): Promise<DeclarationIssue[]> {
  const folder = path.join(root, LEDGER_DIR);
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.jsonl'))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .sort();
  const issues: DeclarationIssue[] = [];
  for (const file of files) {
    for (const line of readLedgerLines(file, await readFile(path.join(root, file), 'utf8'))) {
      if ('problem' in line) issues.push({ file: '', path: '', message: `${line.problem}; the bot skips this deployment until the line is fixed or removed` });
    }
  }
  return issues;
}
