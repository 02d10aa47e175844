import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { preparedFixture, REPO_ROOT } from '../testing/fixture-fleet.ts';
import { GENERATED_NOTICE } from './serialize.ts';
import { readTree } from './write.ts';

const run = promisify(execFile);

describe('generated files say they are generated', () => {
  it('every YAML file opens with the notice as a comment, every Terraform JSON file carries it in its "//" comment object', async () => {
    const tree = await readTree(path.join(await preparedFixture(), 'generated'));
    const yaml = [...tree].filter(([file]) => file.endsWith('.yaml'));
    const terraform = [...tree].filter(([file]) => file.endsWith('.tf.json'));

    expect(yaml.length + terraform.length).toBe(tree.size);
    expect(terraform.map(([file]) => file).sort()).toEqual(['dev/terraform/cdk.tf.json', 'production/terraform/cdk.tf.json', 'research/terraform/cdk.tf.json', 'staging/terraform/cdk.tf.json']);
    for (const [file, content] of yaml) expect(content.split('\n')[0], file).toBe(`# ${GENERATED_NOTICE}`);
    for (const [file, content] of terraform) expect((JSON.parse(content) as { '//': { comment: string } })['//'].comment, file).toBe(GENERATED_NOTICE);
  });

  it('git marks generated/ as generated, so reviews collapse it', async () => {
    const { stdout } = await run('git', ['check-attr', 'linguist-generated', '--', 'generated/dev/kubernetes/namespace.yaml', 'src/index.ts'], { cwd: REPO_ROOT });

    expect(stdout).toBe('generated/dev/kubernetes/namespace.yaml: linguist-generated: true\nsrc/index.ts: linguist-generated: unspecified\n');
  });
});
