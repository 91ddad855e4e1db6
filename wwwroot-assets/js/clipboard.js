// Copies text for the "copy link" buttons; returns false when the browser refuses (no secure context).
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
