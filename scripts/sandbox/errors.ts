// ARM's error body: { error: { code, message, details? } } with the matching HTTP status.
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: { code: string; message: string; [k: string]: unknown }[],
  ) {
    super(message);
  }
  body() {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export const notFound = (what: string, id: string, code = 'ResourceNotFound') =>
  new ArmError(404, code, `The ${what} '${id}' could not be found.`);
export const badRequest = (code: string, message: string) => new ArmError(400, code, message);
