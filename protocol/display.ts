// Text from the mesh, made safe to show to Claude. Every member can write names, summaries,
// message bodies and memories, and Claude acts on what it reads: so a field meant for one line
// stays on one line (it cannot fake another list entry), an attribute cannot close its quotes, and
// a body cannot close the block it sits in and open a fake one from someone else.

/** Control characters, line and paragraph separators become spaces. */
export function oneLine (text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, ' ')
}

/** A value for `name="..."`: one line, no double quote. */
export function attr (text: string): string {
  return oneLine(text).replace(/"/g, '\'')
}

/**
 * A body to place between <tag ...> and </tag>: every `<tag` and `</tag` inside it (any case,
 * and Claude Code's own <channel> wrapper) is written `&lt;tag`, so the body cannot end its block.
 */
export function body (text: string, tag: string): string {
  const names = [...new Set([tag, 'channel'])].map((t) => t.replace(/[^A-Za-z0-9_-]/g, '')).join('|')
  return text.replace(new RegExp(`<(/?)(${names})`, 'gi'), '&lt;$1$2')
}

/** `<tag a="1" b="2">\nbody\n</tag>`, with every attribute and the body made safe. */
export function block (tag: string, attrs: Record<string, string | null | undefined>, content: string): string {
  const list = Object.entries(attrs).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => ` ${k}="${attr(v as string)}"`).join('')
  return `<${tag}${list}>\n${body(content, tag)}\n</${tag}>`
}

/** A member as people and Claude see it: its label from the mesh's view, and the start of its key. */
export function memberName (label: string, key: string): string {
  return `${oneLine(label)} (${key.slice(0, 8)})`
}
