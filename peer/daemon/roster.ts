// The remote sessions of one mesh, each bound to the member (swarm key) whose daemon announced it.
// A daemon speaks only for its own sessions: an announcement is taken only from the member the
// session's proof names (a signature by the session's own key over mesh, member and id), and a
// session id stays bound to its member for a day after it went, so nobody else can take it over
// while its daemon restarts. What is shown of a member (its label) comes from the mesh's view.
import type { SessionInfo } from '../../protocol/session-wire.js'
import { verifySessionClaim } from '../../protocol/session-wire.js'
import { CAPS } from '../../protocol/limits.js'

export interface RemoteSession { info: SessionInfo, owner: string, seen: number }

export type Verdict = 'added' | 'updated' | 'refused' | 'capped'

export interface RosterOptions {
  meshKey: Buffer
  /** the member's label as the view has it (null: not a member in the view) */
  labelOf: (swarmKey: string) => string | null
  now: () => number
}

export class Roster {
  private readonly opts: RosterOptions
  private readonly live = new Map<string, RemoteSession>()
  /** session id -> the member it belongs to, and until when that binding outlives the session */
  private readonly bound = new Map<string, { owner: string, until: number }>()
  /** proofs checked: `${id}:${member}:${proof}` */
  private readonly proven = new Set<string>()
  /** announcements refused: a session of another member, an unproven claim, or one over the cap */
  refused = 0

  constructor (opts: RosterOptions) {
    this.opts = opts
  }

  get size (): number {
    return this.live.size
  }

  get (id: string): RemoteSession | undefined {
    return this.live.get(id)
  }

  sessions (): SessionInfo[] {
    return [...this.live.values()].map((r) => r.info)
  }

  /** The member a session id belongs to: live, or gone less than a day ago. */
  ownerOf (id: string): string | null {
    const live = this.live.get(id)
    if (live !== undefined) return live.owner
    const bound = this.bound.get(id)
    return bound !== undefined && bound.until > this.opts.now() ? bound.owner : null
  }

  /** Whether `proof` shows that session `id` belongs to `member` (checked once per proof). */
  proves (member: string, id: string, proof: string | undefined): boolean {
    if (proof === undefined) return false
    const key = `${id}:${member}:${proof}`
    if (this.proven.has(key)) return true
    if (!verifySessionClaim(this.opts.meshKey, member, id, proof)) return false
    if (this.proven.size > 64 * 1024) this.proven.clear()
    this.proven.add(key)
    return true
  }

  /** A session announced by the daemon of member `owner`. */
  announce (owner: string, info: SessionInfo): Verdict {
    const bound = this.ownerOf(info.id)
    if (info.member !== owner || (bound !== null && bound !== owner) || !this.proves(owner, info.id, info.proof)) {
      this.refused++
      return 'refused'
    }
    const existing = this.live.get(info.id)
    if (existing === undefined && this.countOf(owner) >= CAPS.sessionsPerMember) {
      this.refused++
      return 'capped'
    }
    const label = this.opts.labelOf(owner) ?? 'unknown member'
    this.live.set(info.id, { info: { ...info, label }, owner, seen: this.opts.now() })
    this.bind(info.id, owner)
    return existing === undefined ? 'added' : 'updated'
  }

  /** A daemon's full list: its sessions not in it are gone. Returns whether the roster changed. */
  replace (owner: string, infos: SessionInfo[]): boolean {
    const listed = new Set(infos.map((i) => i.id))
    let changed = false
    for (const [id, r] of this.live) {
      if (r.owner === owner && !listed.has(id)) { this.live.delete(id); changed = true }
    }
    for (const info of infos) {
      const verdict = this.announce(owner, info)
      if (verdict === 'added' || verdict === 'updated') changed = true
    }
    return changed
  }

  /** A session its daemon says is gone; only that daemon can say so. */
  gone (owner: string, id: string): boolean {
    if (this.live.get(id)?.owner !== owner) return false
    this.live.delete(id)
    return true
  }

  /** Every session of a member whose channel closed. */
  drop (owner: string): boolean {
    let changed = false
    for (const [id, r] of this.live) {
      if (r.owner === owner) { this.live.delete(id); changed = true }
    }
    return changed
  }

  /** Sessions not heard of since `deadline` go; old bindings are forgotten. */
  expire (deadline: number): boolean {
    let changed = false
    for (const [id, r] of this.live) {
      if (r.seen < deadline) { this.live.delete(id); changed = true }
    }
    const now = this.opts.now()
    for (const [id, b] of this.bound) if (b.until <= now && !this.live.has(id)) this.bound.delete(id)
    return changed
  }

  /** Labels follow the view: a member's sessions show its label as the view has it now. */
  relabel (): void {
    for (const r of this.live.values()) r.info = { ...r.info, label: this.opts.labelOf(r.owner) ?? 'unknown member' }
  }

  private countOf (owner: string): number {
    let n = 0
    for (const r of this.live.values()) if (r.owner === owner) n++
    return n
  }

  private bind (id: string, owner: string): void {
    this.bound.delete(id) // re-inserted last: the oldest bindings come first
    this.bound.set(id, { owner, until: this.opts.now() + CAPS.sessionOwnershipMs })
    let held = 0
    for (const b of this.bound.values()) if (b.owner === owner) held++
    if (held <= CAPS.rememberedSessionsPerMember) return
    for (const [other, b] of this.bound) {
      if (b.owner !== owner || this.live.has(other)) continue
      this.bound.delete(other)
      if (--held <= CAPS.rememberedSessionsPerMember) break
    }
  }
}
