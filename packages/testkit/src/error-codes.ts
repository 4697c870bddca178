/** The stable `code` an error carries, if any. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/** An error's message and its causes' messages, outermost first: where an OS error code may be named. */
export function messageChain(error: unknown): string {
  const parts: string[] = []
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) parts.push(`${codeOf(e) ?? e.name}: ${e.message}`)
  return parts.length > 0 ? parts.join(' <- ') : String(error)
}
