/**
 * Types for the two kinds of schema a store accepts, and the config type each one
 * implies: a JSON Schema declared `as const`, or a Standard Schema v1 validator.
 */

/** The Standard Schema v1 interface (zod 4, valibot, arktype…), as its spec publishes it. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The validator's Standard Schema interface. */
  readonly '~standard': StandardSchemaProps<Input, Output>;
}

/** The `~standard` property of a Standard Schema v1 validator. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** The version of the Standard Schema spec: 1. */
  readonly version: 1;
  /** The library that implements it (`zod`, `valibot`, …). */
  readonly vendor: string;
  /** Validates `value`: its output (possibly transformed) or its issues. May be async. */
  readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
  /** Carries the input and output types, for inference only; absent at run time. */
  readonly types?:
    | {
        /** What the schema accepts. */
        readonly input: Input;
        /** What validation yields. */
        readonly output: Output;
      }
    | undefined;
}

/** What a Standard Schema validator returns. */
export type StandardSchemaResult<Output> =
  | {
      /** The validated (and possibly transformed) value. */
      readonly value: Output;
      /** Absent on success. */
      readonly issues?: undefined;
    }
  | {
      /** Why the value is invalid; never empty. */
      readonly issues: readonly StandardSchemaIssue[];
    };

/** One Standard Schema issue. */
export interface StandardSchemaIssue {
  /** What is wrong, in words. */
  readonly message: string;
  /** Where, as keys from the root; txconfig turns it into a JSON Pointer. */
  readonly path?:
    | readonly (
        | PropertyKey
        | {
            /** One key of the path. */
            readonly key: PropertyKey;
          }
      )[]
    | undefined;
}

/** A JSON Schema document (draft-07 / 2019-09 / 2020-12 vocabulary, as ajv reads it). */
export type JsonSchema = boolean | { readonly [keyword: string]: unknown };

/** Either kind of schema a store accepts. */
export type ConfigSchema = JsonSchema | StandardSchemaV1;

/** The config type a schema describes: a Standard Schema's output, or {@link FromSchema}. */
export type ConfigOf<S> = S extends StandardSchemaV1<unknown, infer O> ? O : S extends JsonSchema ? FromSchema<S> : unknown;

/**
 * What a schema accepts before validation: a Standard Schema's input, or
 * {@link FromSchemaInput} (properties with a `default` may be left out).
 */
export type ConfigInputOf<S> = S extends StandardSchemaV1<infer I, unknown> ? I : S extends JsonSchema ? FromSchemaInput<S> : unknown;

type Mode = 'input' | 'output';

type Simplify<T> = { [K in keyof T]: T[K] };

type TypeName<S> = S extends { readonly type: infer N } ? N : never;

type FromTypeName<N, S, M extends Mode> = N extends 'string'
  ? string
  : N extends 'number' | 'integer'
    ? number
    : N extends 'boolean'
      ? boolean
      : N extends 'null'
        ? null
        : N extends 'array'
          ? FromArray<S, M>
          : N extends 'object'
            ? FromObject<S, M>
            : unknown;

type FromArray<S, M extends Mode> = S extends { readonly items: infer I }
  ? I extends readonly unknown[]
    ? unknown[]
    : Infer<I, M>[]
  : unknown[];

// In the output, a property with a `default` is always present (ajv `useDefaults`).
type RequiredKeys<S, M extends Mode> =
  | (S extends { readonly required: readonly (infer R)[] } ? R & string : never)
  | (M extends 'output'
      ? { [K in keyof Props<S>]: Props<S>[K] extends { readonly default: unknown } ? K & string : never }[keyof Props<S>]
      : never);

type Props<S> = S extends { readonly properties: infer P } ? P : unknown;

type Extra<S, M extends Mode> = S extends { readonly additionalProperties: false }
  ? unknown
  : S extends { readonly additionalProperties: infer A extends JsonSchema }
    ? A extends true
      ? { [key: string]: unknown }
      : { [key: string]: Infer<A, M> }
    : { [key: string]: unknown };

type FromObject<S, M extends Mode> = Simplify<
  { -readonly [K in keyof Props<S> as K extends RequiredKeys<S, M> ? K : never]: Infer<Props<S>[K], M> } & {
    -readonly [K in keyof Props<S> as K extends RequiredKeys<S, M> ? never : K]?: Infer<Props<S>[K], M>;
  } & Extra<S, M>
>;

type Infer<S, M extends Mode> = S extends true
  ? unknown
  : S extends false
    ? never
    : S extends { readonly const: infer C }
      ? C
      : S extends { readonly enum: readonly (infer E)[] }
        ? E
        : S extends { readonly anyOf: readonly (infer U)[] }
          ? Infer<U, M>
          : S extends { readonly oneOf: readonly (infer U)[] }
            ? Infer<U, M>
            : TypeName<S> extends readonly (infer N)[]
              ? FromTypeName<N, S, M>
              : [TypeName<S>] extends [never]
                ? S extends { readonly properties: unknown }
                  ? FromObject<S, M>
                  : unknown
                : FromTypeName<TypeName<S>, S, M>;

/**
 * The type of the data a JSON Schema declared `as const` yields after validation.
 * Understands `type` (one or several), `const`, `enum`, `properties`, `required`,
 * `additionalProperties`, `items`, `anyOf`, `oneOf` and `default` (a property with a
 * default is present in the result). Anything else is `unknown`.
 */
export type FromSchema<S> = Infer<S, 'output'>;

/** Like {@link FromSchema}, for the data the schema accepts: properties with a `default` are optional. */
export type FromSchemaInput<S> = Infer<S, 'input'>;
