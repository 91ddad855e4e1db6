#!/usr/bin/env bash
# After changing the API: writes the OpenAPI document the portal now serves to
# tests/VirtPortal.Web.Tests/Api/Client/openapi-v1.json (the document the tests' Kiota client is generated
# from), then rebuilds the tests, which regenerates the client from it. Commit the document with the change.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet build tests/VirtPortal.Web.Tests -c Release --nologo -v q
VIRTPORTAL_UPDATE_API_CLIENT=1 dotnet test tests/VirtPortal.Web.Tests -c Release --no-build \
    --filter "FullyQualifiedName~ApiClientTests.The_portal_serves_the_document_the_client_was_generated_from"
dotnet build tests/VirtPortal.Web.Tests -c Release --nologo -v q
echo "updated tests/VirtPortal.Web.Tests/Api/Client/openapi-v1.json"
