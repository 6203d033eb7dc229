/** A promise and its resolver, to line concurrent transactions up at a chosen point. */
export function gate(): { open: () => void; wait: Promise<void> } {
  let open!: () => void;
  const wait = new Promise<void>(resolve => (open = resolve));
  return { open, wait };
}
