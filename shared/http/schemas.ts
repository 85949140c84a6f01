import { Type, type TSchema } from '@sinclair/typebox';

/** A value or null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** Every error response's body: registered once per app (registerSwagger), referenced by routes. */
export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'machine-readable kind, e.g. overloaded (the code without ERR_, lower case, for registry errors)' }),
    message: Type.String(),
    code: Type.String({ description: 'stable error code to match on, e.g. ERR_OVERLOADED (docs/errors.md)' }),
  },
  { $id: 'ErrorResponse', title: 'Error' },
);

/** A route's error response: a reference to the one ErrorResponse component. */
export const ErrorResponse = Type.Ref(ErrorBody);

/** A string with at least one non-whitespace character. */
export const NON_BLANK_PATTERN = '\\S';
export const NON_BLANK_MESSAGE = 'must contain a non-whitespace character';

export const errorResponses = {
  400: ErrorResponse,
  413: ErrorResponse,
  415: ErrorResponse,
  429: ErrorResponse,
  503: ErrorResponse,
};
