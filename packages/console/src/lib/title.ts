/** The page title: the number of unread consumer messages in front, as mail and chat apps do ("(2) Parley"). */
export function titleText(unread: number, base = 'Parley'): string {
  if (!Number.isFinite(unread) || unread <= 0) return base;
  return `(${unread > 99 ? '99+' : Math.floor(unread)}) ${base}`;
}
