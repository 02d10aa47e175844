import path from 'node:path';
import seedrandom from 'seedrandom';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { preparedFixture } from '../testing/fixture-fleet.ts';
import { readTree } from './write.ts';
import { libraryYaml, yamlDocument } from './yaml-emitter.ts';

describe('the YAML fast path', () => {
  it('writes every document synth makes byte for byte as the yaml library does', async () => {
    const tree = await readTree(path.join(await preparedFixture(), 'generated'));
    const documents = [...tree]
      .filter(([file]) => file.endsWith('.yaml') && !file.includes('/helm/templates/'))
      .flatMap(([, content]) => parseAllDocuments(content).map((document) => document.toJS()));

    expect(documents.length).toBeGreaterThan(150);
    for (const document of documents) expect(yamlDocument(document)).toBe(libraryYaml(document));
  });

  it('agrees with the library on random strings, numbers and nestings', () => {
    const random = seedrandom('yaml-emitter');
    const alphabet = ['a', 'Z', '0', '9', ' ', '-', '_', '.', '/', ':', '#', '"', "'", '\n', '\t', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', '%', '@', '`', '?', 'é', '\\', '='];
    const words = ['true', 'false', 'null', 'True', 'NULL', 'yes', 'no', 'on', '~', '.inf', '-.Inf', '.nan', '0x1f', '0o17', '1e3', '012', '+1', '-', '---', '...', ''];
    const string = () => {
      if (random() < 0.2) return words[Math.floor(random() * words.length)]!;
      return Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    };
    const scalar = () => {
      const pick = random();
      if (pick < 0.6) return string();
      if (pick < 0.7) return Math.floor(random() * 2000) - 1000;
      if (pick < 0.8) return random() * 100 - 50;
      if (pick < 0.9) return random() < 0.5;
      return null;
    };
    const value = (depth: number): unknown => {
      const pick = random();
      if (depth > 3 || pick < 0.5) return scalar();
      if (pick < 0.75) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [random() < 0.8 ? `k${string().replace(/\s/g, '')}` : string(), value(depth + 1)]));
    };

    for (let index = 0; index < 3000; index += 1) {
      const document = { apiVersion: 'v1', data: value(0), list: [value(1), value(1)] };
      expect(yamlDocument(document)).toBe(libraryYaml(document));
    }
  });
});
