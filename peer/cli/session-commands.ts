// `launch`, `install`, `uninstall` and `hook`: how Claude Code sessions join the mesh.
import type { Command } from 'commander'

export function addSessionCommands (program: Command): void {
  void program
}
