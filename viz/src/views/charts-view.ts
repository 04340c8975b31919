// The charts panel (#charts): failover time per crash, messages per second and flows per switch, each in
// its own box with a cursor at the time shown. Owns the boxes and hands each chart its slice of the model.

import type { Nanos, TraceModel } from '../model/types.ts';
import { FailoverChart } from './failover-chart.ts';
import { FlowsChart } from './flows-chart.ts';
import { MessagesChart } from './messages-chart.ts';

export class ChartsView {
  private readonly failovers: FailoverChart;
  private readonly messages: MessagesChart;
  private readonly flows: FlowsChart;

  constructor(container: HTMLElement) {
    const box = (id: string) => {
      const div = document.createElement('div');
      div.className = 'chart-box';
      div.id = id;
      container.append(div);
      return div;
    };
    this.failovers = new FailoverChart(box('chart-failover'));
    this.messages = new MessagesChart(box('chart-messages'));
    this.flows = new FlowsChart(box('chart-flows'));
  }

  setTrace(model: TraceModel): void {
    const end = model.meta.endNs;
    this.failovers.setTrace(model.charts.failovers, end);
    this.messages.setTrace(model.charts.messagesPerSecond, end);
    this.flows.setTrace(model.charts.flowsPerSwitch, end);
  }

  show(t: Nanos, selected: string | null): void {
    this.failovers.show(t);
    this.messages.show(t);
    this.flows.show(t, selected);
  }
}
