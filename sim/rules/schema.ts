// Relation descriptors: column types, the tuple type a schema stands for, and the Relation handle that rules
// and transactions name. Owns declarations only; tuples live in relation-store.ts and input-table.ts, and a
// handle never holds data, so it can be passed around and compared freely.

/** Column types: scalars, and read-only lists of scalars that are compared as opaque whole values. */
export type ColumnType = 'number' | 'string' | 'boolean' | 'number[]' | 'string[]' | 'boolean[]';

/** Column name → column type. Property order is the column order (keys, sorting, stats). */
export type Schema = { readonly [column: string]: ColumnType };

export type Scalar = number | string | boolean;
export type Value = Scalar | readonly number[] | readonly string[] | readonly boolean[];

/** A datapath (LDPS) identifier: the value of a relation's datapath column. */
export type DatapathKey = number | string;

export type ValueOfColumn<C extends ColumnType> = C extends 'number'
  ? number
  : C extends 'string'
    ? string
    : C extends 'boolean'
      ? boolean
      : C extends 'number[]'
        ? readonly number[]
        : C extends 'string[]'
          ? readonly string[]
          : readonly boolean[];

/** The tuple type of a schema: a plain object with one primitive (or list) field per column. */
export type TupleOf<S extends Schema> = { readonly [K in keyof S]: ValueOfColumn<S[K]> };

/** Any tuple, as the engine sees it internally. */
export type Tuple = { readonly [column: string]: Value };

/** Columns of a schema whose values may key a datapath. */
export type DatapathColumn<S extends Schema> = {
  [K in keyof S]: S[K] extends 'number' | 'string' ? K : never;
}[keyof S] &
  string;

/** How a relation gets its tuples. */
export type RelationKind = 'input' | 'rule' | 'collect';

/**
 * A declared relation. `T` is the tuple type; it exists only for the type checker (the handle holds no
 * tuples). Handles are created by the engine (`input`, `relation`, `collect`) and belong to it.
 */
export class Relation<T = Tuple> {
  /** Phantom: ties the handle to its tuple type without a runtime field. */
  declare readonly tupleType: T;
  /** Index of the datapath column in `columns`, or -1 for a global relation. */
  readonly datapathIndex: number;

  constructor(
    /** The engine that declared it; handles of another engine are refused. */
    readonly owner: object,
    /** Declaration order within the engine; also the tie-break of the evaluation order. */
    readonly id: number,
    readonly name: string,
    readonly columns: readonly string[],
    readonly types: readonly ColumnType[],
    /** The datapath (LDPS) column, or null for a global relation such as the chassis list. */
    readonly datapath: string | null,
    readonly kind: RelationKind,
    /** Whether commits report this relation's changes (derived relations only; inputs never are). */
    readonly output: boolean,
  ) {
    this.datapathIndex = datapath === null ? -1 : columns.indexOf(datapath);
  }

  /** The column's type; throws for an unknown column. */
  typeOf(column: string): ColumnType {
    const i = this.columns.indexOf(column);
    if (i < 0) throw new Error(`rules: relation '${this.name}' has no column '${column}'`);
    return this.types[i];
  }

  toString(): string {
    return this.name;
  }
}

const COLUMN_TYPES: readonly ColumnType[] = ['number', 'string', 'boolean', 'number[]', 'string[]', 'boolean[]'];

/** Checks a schema and the datapath choice; returns the column list and types in declaration order. */
export function checkSchema(
  name: string,
  schema: Schema,
  datapath: string | null,
): { columns: string[]; types: ColumnType[] } {
  if (typeof name !== 'string' || name.length === 0) throw new Error('rules: a relation needs a non-empty name');
  const columns = Object.keys(schema);
  if (columns.length === 0) throw new Error(`rules: relation '${name}' has no columns`);
  const types = columns.map((column) => {
    const type = schema[column];
    if (!COLUMN_TYPES.includes(type)) {
      throw new Error(`rules: relation '${name}' column '${column}' has unknown type '${String(type)}'`);
    }
    return type;
  });
  if (datapath !== null) {
    const i = columns.indexOf(datapath);
    if (i < 0) throw new Error(`rules: relation '${name}' names datapath column '${datapath}', which it does not have`);
    if (types[i] !== 'number' && types[i] !== 'string') {
      throw new Error(`rules: relation '${name}' datapath column '${datapath}' must be a number or string column`);
    }
  }
  return { columns, types };
}

export function isScalarType(type: ColumnType): type is 'number' | 'string' | 'boolean' {
  return type === 'number' || type === 'string' || type === 'boolean';
}
