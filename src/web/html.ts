/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A notice for the person, announced by screen readers; empty without one. */
export function noticeParagraph(notice?: string): string {
  return notice
    ? `<p class="notice" role="status">${escapeHtml(notice)}</p>`
    : '';
}

/**
 * A whole page: no inline script or style, so it renders under the pages' strict CSP.
 * `main` is trusted HTML, already escaped by the caller.
 */
export function htmlDocument(page: {
  title: string;
  stylesheets: string[];
  bodyClass?: string;
  main: string;
}): string {
  const links = page.stylesheets
    .map((href) => `<link rel="stylesheet" href="${escapeHtml(href)}">`)
    .join('\n');
  const body = page.bodyClass
    ? `<body class="${escapeHtml(page.bodyClass)}">`
    : '<body>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
${links}
</head>
${body}
<main>
${page.main}
</main>
</body>
</html>`;
}
