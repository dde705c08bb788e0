const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text made safe for HTML and inline SVG, in element content and in quoted attributes alike.
 * Every string from a capture (interface names, addresses) or a finding passes through here:
 * an interface can be named `<script>` by whoever created it.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
