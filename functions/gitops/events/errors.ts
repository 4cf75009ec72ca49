export class EventPayloadError extends Error { readonly status = 400; constructor(readonly field: string, message: string) { super(`${field}: ${message}`); this.name = 'EventPayloadError'; } }
