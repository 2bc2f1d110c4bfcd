/**
 * The tenant's self-service catalog (enterprise apps, their assigned groups, each group's owners), read from the
 * apps' side and kept for a few minutes. It only decides what to offer: every choice is checked again against the
 * directory at the moment of acting (InviteContext, DecisionContext).
 */
import type { CatalogApp, Directory } from '../../graph/directory';

export class Catalog {
  private cached: { apps: Promise<CatalogApp[]>; until: number } | null = null;

  constructor(
    private readonly directory: Directory,
    private readonly clock: () => Date = () => new Date(),
    private readonly ttlMs: number = 5 * 60_000,
  ) {}

  /** Concurrent callers share one read; a failed read is not kept. */
  apps(): Promise<CatalogApp[]> {
    const now = this.clock().getTime();
    if (this.cached && this.cached.until > now) return this.cached.apps;
    const apps = this.directory.listCatalog();
    const entry = { apps, until: now + this.ttlMs };
    this.cached = entry;
    apps.catch(() => {
      if (this.cached === entry) this.cached = null;
    });
    return apps;
  }
}
