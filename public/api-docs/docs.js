// Starts Swagger UI on /api/docs with this server's OpenAPI document. The online validator
// is turned off: the reference fetches nothing from other sites.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    displayOperationId: true,
    defaultModelsExpandDepth: 0,
    docExpansion: 'list',
  });
});
