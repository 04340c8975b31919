// The packets panel: the list of packets VMs sent (#packets, filtered by #packet-filter, capped so a huge
// trace still lists instantly) and the hops of the selected one with the flows each hop hit (#packet-hops).
// Owns those elements; choosing a packet is reported to the page, which asks the model for its path. All
// text from the trace goes in as text.

import { select } from 'd3';
import type { PacketHop, PacketSummary } from '../model/types.ts';
import { filterPackets } from './packet-filter.ts';
import { formatInstant } from './time-format.ts';

const MAX_LISTED = 300;

export class PacketsView {
  private packets: readonly PacketSummary[] = [];
  private selected: number | null = null;

  constructor(
    private readonly list: HTMLElement,
    private readonly filter: HTMLInputElement,
    private readonly hops: HTMLElement,
    private readonly onSelect: (packet: PacketSummary) => void,
  ) {
    filter.addEventListener('input', () => this.renderList());
  }

  setTrace(packets: readonly PacketSummary[]): void {
    this.packets = packets;
    this.selected = null;
    this.renderList();
    this.showHops(null, []);
  }

  showHops(packet: PacketSummary | null, hops: readonly PacketHop[]): void {
    this.selected = packet?.packetId ?? null;
    select(this.list)
      .selectAll<HTMLLIElement, PacketSummary>('li')
      .classed('selected', (p) => p.packetId === this.selected);
    const root = select(this.hops);
    root.selectAll('*').remove();
    if (packet === null) return;
    root.append('p').attr('class', 'hops-title').text(`packet #${packet.packetId} from ${packet.from}: ${packet.label}`);
    const items = root
      .append('ol')
      .selectAll('li')
      .data(hops)
      .join('li')
      .attr('class', (h) => `hop hop-${h.kind}`);
    items.append('span').text((h) => `${formatInstant(h.t)}  ${h.node}  ${h.kind}${h.detail === '' ? '' : `  ${h.detail}`}`);
    items
      .filter((h) => h.flows.length > 0)
      .append('ul')
      .selectAll('li')
      .data((h) => h.flows)
      .join('li')
      .text((f) => f);
  }

  private renderList(): void {
    const { shown, matched } = filterPackets(this.packets, this.filter.value, MAX_LISTED);
    const items = select(this.list)
      .selectAll<HTMLLIElement, PacketSummary>('li')
      .data(shown, (p) => String(p.packetId))
      .join((enter) => {
        const li = enter.append('li');
        li.append('button').attr('type', 'button');
        return li;
      })
      .classed('selected', (p) => p.packetId === this.selected);
    items
      .select('button')
      .text((p) => `#${p.packetId}  ${formatInstant(p.t)}  ${p.from}  ${p.label}`)
      .on('click', (_event, p) => this.onSelect(p));
    this.list.dataset.more = matched > shown.length ? `${matched - shown.length} more match; narrow the filter` : matched === 0 && this.packets.length > 0 ? 'no packet matches' : '';
  }
}
