/**
 * Small builders for Grafana dashboard JSON, typed against @grafana/schema, so that the
 * dashboards in dashboards.ts read as a list of queries rather than as Grafana's JSON.
 * Every query goes to the `${datasource}` template variable (a Prometheus data source).
 */
import type {
  DataSourceRef,
  Panel,
  RowPanel,
  ThresholdsConfig,
  VariableModel,
  VariableOption,
} from '@grafana/schema';
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  GraphDrawStyle,
  LegendDisplayMode,
  PercentChangeColorMode,
  SortOrder,
  StackingMode,
  ThresholdsMode,
  TooltipDisplayMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
  VizOrientation,
} from '@grafana/schema';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type {
  FieldConfig as TimeSeriesFieldConfig,
  Options as TimeSeriesOptions,
} from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

/** The data source of every panel and variable: the dashboard's `datasource` variable. */
export const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** A Prometheus query of a panel (a type alias, so it fits the schema's target records). */
export type PromTarget = {
  refId: string;
  datasource: DataSourceRef;
  expr: string;
  legendFormat: string;
  range: boolean;
  instant: boolean;
};

/** One query: PromQL and the legend Grafana shows for each series (`{{label}}` templates). */
export interface Query {
  readonly expr: string;
  readonly legend: string;
}

/** Units are Grafana's unit ids: `s`, `reqps`, `percentunit`, `bytes`, `short`, ... */
export type Unit = string;

interface PanelCommon {
  readonly title: string;
  readonly description: string;
  readonly unit: Unit;
  readonly queries: readonly Query[];
}

export interface TimeseriesSpec extends PanelCommon {
  /** Stack the series (for parts of a whole, such as workers by state). */
  readonly stacked?: boolean;
  /** Panel width in grid columns (of 24); 12 by default. */
  readonly width?: number;
}

export interface StatSpec extends PanelCommon {
  /** The colour below the first threshold; green by default. */
  readonly baseColor?: string;
  /** Each step's colour from its value up. */
  readonly thresholds?: readonly { readonly value: number; readonly color: string }[];
  readonly width?: number;
}

const PANEL_HEIGHT = 8;
const STAT_HEIGHT = 4;

/** Range queries only: stat panels show the last value over a sparkline of the range. */
function targets(queries: readonly Query[]): PromTarget[] {
  return queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: DATASOURCE,
    expr: q.expr,
    legendFormat: q.legend,
    range: true,
    instant: false,
  }));
}

function thresholds(spec: StatSpec): ThresholdsConfig {
  return {
    mode: ThresholdsMode.Absolute,
    steps: [
      // Grafana's base step has no lower bound: `null` is how its JSON spells -Infinity.
      { value: null, color: spec.baseColor ?? 'green' },
      ...(spec.thresholds ?? []).map((s) => ({ value: s.value, color: s.color })),
    ],
  };
}

/** A time series panel (placed later by {@link layout}). */
export function timeseries(spec: TimeseriesSpec): Panel {
  const options: TimeSeriesOptions = {
    legend: {
      showLegend: true,
      displayMode: LegendDisplayMode.List,
      placement: 'bottom',
      calcs: [],
    },
    tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.Descending },
  };
  const custom: TimeSeriesFieldConfig = {
    drawStyle: GraphDrawStyle.Line,
    lineWidth: 1,
    fillOpacity: spec.stacked === true ? 30 : 10,
    stacking: { mode: spec.stacked === true ? StackingMode.Normal : StackingMode.None },
  };
  // The schema's Panel keeps options as plain records: spread the typed objects into them.
  return {
    type: 'timeseries',
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos: { x: 0, y: 0, w: spec.width ?? 12, h: PANEL_HEIGHT },
    targets: targets(spec.queries),
    options: { ...options },
    fieldConfig: { defaults: { unit: spec.unit, custom: { ...custom } }, overrides: [] },
  };
}

/** A single-value panel of the last value (placed later by {@link layout}). */
export function stat(spec: StatSpec): Panel {
  const options: StatOptions = {
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    orientation: VizOrientation.Auto,
    colorMode: BigValueColorMode.Value,
    graphMode: BigValueGraphMode.Area,
    justifyMode: BigValueJustifyMode.Auto,
    textMode: BigValueTextMode.Auto,
    percentChangeColorMode: PercentChangeColorMode.Standard,
    showPercentChange: false,
    wideLayout: true,
  };
  return {
    type: 'stat',
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos: { x: 0, y: 0, w: spec.width ?? 6, h: STAT_HEIGHT },
    targets: targets(spec.queries),
    options: { ...options },
    fieldConfig: {
      defaults: { unit: spec.unit, thresholds: thresholds(spec) },
      overrides: [],
    },
  };
}

/** A titled group of panels. */
export interface Section {
  readonly title: string;
  readonly panels: readonly Panel[];
}

/**
 * Places sections top to bottom: a row header, then its panels left to right, wrapping at 24
 * columns. Assigns the panel ids, so adding a panel never needs hand-made coordinates.
 */
export function layout(sections: readonly Section[]): (Panel | RowPanel)[] {
  const out: (Panel | RowPanel)[] = [];
  let id = 1;
  let y = 0;
  for (const section of sections) {
    out.push({
      type: 'row',
      id: id++,
      title: section.title,
      collapsed: false,
      panels: [],
      gridPos: { x: 0, y: y++, w: 24, h: 1 },
    });
    let x = 0;
    let rowHeight = 0;
    for (const panel of section.panels) {
      const w = panel.gridPos?.w ?? 12;
      const h = panel.gridPos?.h ?? PANEL_HEIGHT;
      if (x + w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      out.push({ ...panel, id: id++, gridPos: { x, y, w, h } });
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return out;
}

/** The `datasource` variable: any Prometheus data source, the default one first. */
export function datasourceVariable(): VariableModel {
  return {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    hide: VariableHide.dontHide,
    refresh: VariableRefresh.onDashboardLoad,
    regex: '',
  };
}

/** The selection a filter variable starts with: every value. */
const ALL = { text: 'All', value: '$__all' } as const satisfies VariableOption;

/** A multi-value variable over a label's values, `All` meaning any value (`.*`). */
export function labelVariable(name: string, label: string, query: string): VariableModel {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query,
    refresh: VariableRefresh.onTimeRangeChanged,
    sort: VariableSort.alphabeticalAsc,
    multi: true,
    includeAll: true,
    allValue: '.*',
    hide: VariableHide.dontHide,
    current: ALL,
  };
}

/** A multi-value variable over fixed values, `All` meaning any value (`.*`). */
export function customVariable(
  name: string,
  label: string,
  values: readonly string[],
): VariableModel {
  return {
    name,
    label,
    type: 'custom',
    query: values.join(','),
    multi: true,
    includeAll: true,
    allValue: '.*',
    hide: VariableHide.dontHide,
    current: ALL,
    options: values.map((v) => ({ text: v, value: v, selected: false })),
  };
}
