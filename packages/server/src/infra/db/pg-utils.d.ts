// The driver's own conversion of a parameter to its text form (pg/lib/utils.js; @types/pg does not declare it).
declare module 'pg/lib/utils.js' {
  export function prepareValue(value: unknown): string | Buffer | null | undefined;
}
