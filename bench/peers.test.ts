import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { contact, photo } from './peer-data.js';
import { run, SYSTEMS } from './peers.js';
import type { Row } from './report.js';

const WORKLOADS = [
  'upload',
  'first sync',
  'change k=1',
  'change k=10',
  'rotation 3 devices',
  'photos up 3 × 0.1 MB',
  'photos down 3 × 0.1 MB',
];

describe('bench peers (smoke)', () => {
  it('runs every workload through simsync, PouchDB (gzip and plain) and Automerge Repo, counting bytes at one proxy', async () => {
    const result = await run({
      contacts: 120,
      ks: [1, 10],
      rotation: 3,
      photos: 3,
      smallPhotos: 0,
      photoBytes: 100_000,
      runs: 1,
      photoRuns: 1,
      timeoutMs: 30_000,
      json: '',
      log: () => {},
    });
    expect(result.bench).toBe('peers');
    const at = (workload: string, system: string): Row => {
      const row = result.rows.find((r) => r.workload === workload && r.system === system);
      if (row === undefined) throw new Error(`no row for ${system} ${workload}`);
      return row;
    };
    for (const system of SYSTEMS) {
      for (const workload of WORKLOADS) {
        const row = at(workload, system);
        expect(row.runs).toBe(1);
        expect(row.up_bytes).toBeGreaterThan(0);
        expect(row.down_bytes).toBeGreaterThan(0);
        expect(row.ms).toBeGreaterThan(0);
        expect(row.server_cpu_ms).toBeGreaterThan(0);
        expect(row.server_peak_rss_mib).toBeGreaterThan(10);
        expect(row.x_bytes).toBeGreaterThan(0);
      }
      // A one-record change moves fewer bytes than the whole store, and ten records more than one.
      expect(at('change k=1', system).wire_bytes).toBeLessThan(at('first sync', system).wire_bytes as number);
      expect(at('change k=10', system).wire_bytes).toBeGreaterThan(
        at('change k=1', system).wire_bytes as number,
      );
      // An upload's bytes go up, a first sync's come down.
      expect(at('upload', system).up_bytes).toBeGreaterThan(at('upload', system).down_bytes as number);
      expect(at('first sync', system).down_bytes).toBeGreaterThan(
        at('first sync', system).up_bytes as number,
      );
      // Photos are incompressible: no system moves them in fewer bytes than they have, nor in more than
      // base64 (4/3) plus a margin.
      for (const workload of WORKLOADS.filter((w) => w.startsWith('photos'))) {
        expect(at(workload, system).wire_per_body).toBeGreaterThanOrEqual(0.99);
        expect(at(workload, system).wire_per_body).toBeLessThan(1.6);
      }
    }
    // simsync is its own baseline.
    for (const workload of WORKLOADS) expect(at(workload, 'simsync').x_bytes).toBe(1);
    expect(result.targets['every system ran every workload']).toBe(true);
    expect((result as { failures?: unknown[] }).failures).toEqual([]);
  }, 60_000);

  it('mixes real-world vCards into the contacts and makes photos incompressible', () => {
    const text = (i: number, edit = 0) => new TextDecoder().decode(contact(i, edit).body);
    expect(text(0)).toContain('FN:Anna Okafor');
    expect(text(9)).toMatch(/^BEGIN:VCARD/i);
    expect(text(9)).not.toContain('Example Works');
    expect(text(9, 2)).toContain('NOTE:edit 2');
    expect(text(3, 1)).not.toBe(text(3));
    const bytes = photo(1, 65_536).body;
    expect(gzipSync(bytes).length).toBeGreaterThan(bytes.length);
    expect(Buffer.from(photo(2, 100).body).equals(Buffer.from(bytes.subarray(0, 100)))).toBe(false);
  });
});
