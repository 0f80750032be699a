mod openapi_document;
