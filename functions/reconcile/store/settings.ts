// Central switches in the `settings` table; for now the kill switch. NEXUS_KILL_SWITCH=1 in the
// configuration (`forced`) turns it on whatever the table says.
import type { StorageConfig } from '../../platform/storage-config.ts';
import { Table } from '../../platform/tables.ts';
import type { KillSwitchState } from '../model.ts';

interface KillSwitchRow { on: boolean; reason?: string; by?: string; at?: string }

export class SettingsStore {
  private constructor(private readonly table: Table<KillSwitchRow>, private readonly forced: boolean) {}

  /** `forced`: NEXUS_KILL_SWITCH is on (config.reconcile.killSwitch). */
  static async open(cfg: StorageConfig, opts: { forced?: boolean } = {}): Promise<SettingsStore> {
    return new SettingsStore(await Table.open<KillSwitchRow>('settings', cfg), opts.forced ?? false);
  }

  /** The effective kill switch: the configuration first, then the table. */
  async killSwitch(): Promise<KillSwitchState> {
    if (this.forced) return { on: true, source: 'env', reason: 'NEXUS_KILL_SWITCH is set' };
    const row = await this.table.get('killswitch', 'global');
    if (!row?.on) return { on: false, ...(row ? { by: row.by, at: row.at, reason: row.reason } : {}) };
    return { on: true, source: 'settings', reason: row.reason, by: row.by, at: row.at };
  }

  async setKillSwitch(on: boolean, by: string, reason: string, now = new Date()): Promise<KillSwitchState> {
    await this.table.upsert('killswitch', 'global', { on, by, reason, at: now.toISOString() });
    return { on, source: 'settings', by, reason, at: now.toISOString() };
  }
}
