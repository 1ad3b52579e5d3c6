import type { FishboneBody } from './schemas.ts';

const WIDTH = 1100;
const SPINE_Y = 300;
const HEAD_X = 900;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Characters of 13 px bold text that fit on one line of the head (its 190 px less padding). */
const HEAD_LINE_CHARS = 22;
const HEAD_MAX_LINES = 5;

/**
 * Breaks the problem into lines that fit the head, at spaces where it can; the last line ends with an
 * ellipsis when the text is longer than the head holds (the whole text stays in the title).
 */
export function headLines(text: string, perLine = HEAD_LINE_CHARS, maxLines = HEAD_MAX_LINES): string[] {
  const lines: string[] = [];
  let rest = text.trim().replace(/\s+/g, ' ');
  while (rest && lines.length < maxLines) {
    if (rest.length <= perLine) {
      lines.push(rest);
      rest = '';
      break;
    }
    const space = rest.lastIndexOf(' ', perLine);
    const cut = space > perLine / 2 ? space : perLine;
    lines.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest) lines[lines.length - 1] = `${lines[lines.length - 1]!.slice(0, perLine - 1)}…`;
  return lines;
}

/**
 * An Ishikawa diagram: the problem at the head, the six categories as ribs (three above the spine,
 * three below), each cause a labelled twig with its vote count; the chosen root cause is highlighted.
 */
export function renderFishboneSvg(body: FishboneBody): string {
  const parts: string[] = [];
  const ribSpacing = (HEAD_X - 120) / 3;
  body.categories.forEach((category, index) => {
    const above = index < 3;
    const column = index % 3;
    const ribX = 120 + column * ribSpacing + ribSpacing * 0.8;
    const endY = above ? 60 : SPINE_Y * 2 - 60;
    const startX = ribX - 150;
    parts.push(`<g class="category" data-category="${category.key}">`);
    parts.push(`<line x1="${startX}" y1="${endY}" x2="${ribX}" y2="${SPINE_Y}" stroke="#374151" stroke-width="2"/>`);
    parts.push(
      `<text x="${startX}" y="${above ? endY - 12 : endY + 24}" font-weight="bold" font-size="15">${escapeXml(truncate(category.name, 30))}</text>`,
    );
    category.causes.forEach((cause, i) => {
      const t = (i + 1) / (category.causes.length + 1);
      const x = startX + (ribX - startX) * t;
      const y = endY + (SPINE_Y - endY) * t;
      const chosen = body.chosen_cause_id === cause.id || cause.sub_causes?.some((s) => s.id === body.chosen_cause_id);
      const votes = cause.votes?.length ?? 0;
      parts.push(`<g class="cause${chosen ? ' chosen' : ''}" data-cause="${escapeXml(cause.id)}">`);
      parts.push(`<line x1="${x - 120}" y1="${y}" x2="${x}" y2="${y}" stroke="${chosen ? '#b91c1c' : '#6b7280'}" stroke-width="${chosen ? 3 : 1.5}"/>`);
      parts.push(
        `<text x="${x - 120}" y="${y - 4}" font-size="12"${chosen ? ' fill="#b91c1c" font-weight="bold"' : ''}>${escapeXml(truncate(cause.text, 34))}${votes ? ` (${votes}▲)` : ''}</text>`,
      );
      (cause.sub_causes ?? []).forEach((sub, j) => {
        const subChosen = body.chosen_cause_id === sub.id;
        parts.push(
          `<text class="sub-cause${subChosen ? ' chosen' : ''}" data-cause="${escapeXml(sub.id)}" x="${x - 110}" y="${y + 14 + j * 13}" font-size="10" fill="${subChosen ? '#b91c1c' : '#4b5563'}">– ${escapeXml(truncate(sub.text, 36))}${sub.votes?.length ? ` (${sub.votes.length}▲)` : ''}</text>`,
        );
      });
      parts.push('</g>');
    });
    parts.push('</g>');
  });
  const problemText = body.problem || 'Problem';
  const problem = escapeXml(problemText);
  const lines = headLines(problemText);
  const headHeight = Math.max(80, lines.length * 17 + 20);
  const headTop = SPINE_Y - headHeight / 2;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${SPINE_Y * 2}" width="${WIDTH}" height="${SPINE_Y * 2}" role="img" aria-label="Fishbone diagram: ${problem}" font-family="sans-serif">`,
    `<title>Fishbone diagram: ${problem}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<line x1="60" y1="${SPINE_Y}" x2="${HEAD_X}" y2="${SPINE_Y}" stroke="#111827" stroke-width="4"/>`,
    `<rect class="head" x="${HEAD_X}" y="${headTop}" width="${WIDTH - HEAD_X - 10}" height="${headHeight}" rx="12" fill="#fee2e2" stroke="#b91c1c" stroke-width="2"/>`,
    `<text class="head-label" x="${HEAD_X + 10}" y="${SPINE_Y - ((lines.length - 1) * 17) / 2 + 5}" font-size="13" font-weight="bold">${lines
      .map((line, i) => `<tspan x="${HEAD_X + 10}" dy="${i === 0 ? 0 : 17}">${escapeXml(line)}</tspan>`)
      .join('')}</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
}
