# Sign files with Azure Trusted Signing (Microsoft's code-signing service: the private key never
# leaves its FIPS 140-2 Level 3 HSMs), through signtool's /dlib digest-signing plugin.
#
#   pwsh installer/sign.ps1 -List build\to-sign.txt     # every file named in the list (one per line)
#   pwsh installer/sign.ps1 dist\pseudodesk-1.2.3.msi   # the files given
#
# Needs, from the release job (.github/workflows/windows.yml) or a signing PC:
#   SIGNTOOL        signtool.exe from the Windows SDK build tools (10.0.22621 or later)
#   SIGNING_DLIB    Azure.CodeSigning.Dlib.dll from the NuGet package Microsoft.Trusted.Signing.Client
#   SIGNING_ENDPOINT, SIGNING_ACCOUNT, SIGNING_PROFILE
#                   the Trusted Signing account's endpoint (https://weu.codesigning.azure.net/), its
#                   name and the certificate profile's name
#   an Azure sign-in the dlib can use (DefaultAzureCredential: azure/login in the workflow,
#   `az login` on a PC) for an identity with the role "Trusted Signing Certificate Profile Signer".
# Anything missing stops it with an error: a release is never quietly left unsigned.
# Inno Setup calls it for the setup and its uninstaller (iscc /DSign "/Spdsign=... $f").
[CmdletBinding(PositionalBinding = $false)]  # a bare path is a file to sign, never the -List
param(
    [string] $List = "",
    [Parameter(ValueFromRemainingArguments = $true)] [string[]] $Files = @()
)
$ErrorActionPreference = "Stop"

foreach ($name in "SIGNTOOL", "SIGNING_DLIB", "SIGNING_ENDPOINT", "SIGNING_ACCOUNT", "SIGNING_PROFILE") {
    if (-not [Environment]::GetEnvironmentVariable($name)) {
        throw "sign.ps1: $name is not set, so nothing can be signed; a release must not go out unsigned."
    }
}
$targets = @($Files | Where-Object { $_ })
if ($List) { $targets += @(Get-Content -LiteralPath $List | Where-Object { $_.Trim() }) }
if ($targets.Count -eq 0) { throw "sign.ps1: no file to sign." }
foreach ($file in $targets) {
    if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { throw "sign.ps1: $file does not exist." }
}

$metadata = Join-Path ([IO.Path]::GetTempPath()) "pseudodesk-signing-metadata.json"
@{
    Endpoint               = $env:SIGNING_ENDPOINT
    CodeSigningAccountName = $env:SIGNING_ACCOUNT
    CertificateProfileName = $env:SIGNING_PROFILE
} | ConvertTo-Json | Set-Content -LiteralPath $metadata -Encoding utf8

# signtool takes many files at once; batches keep each command line well under Windows' limit.
$batch = 40
for ($start = 0; $start -lt $targets.Count; $start += $batch) {
    $chunk = $targets[$start..([Math]::Min($start + $batch, $targets.Count) - 1)]
    & $env:SIGNTOOL sign /v /fd SHA256 /tr "http://timestamp.acs.microsoft.com" /td SHA256 `
        /dlib $env:SIGNING_DLIB /dmdf $metadata @chunk
    if ($LASTEXITCODE -ne 0) { throw "sign.ps1: signtool failed (exit $LASTEXITCODE) on: $($chunk -join ', ')" }
}
Write-Host "sign.ps1: signed $($targets.Count) file(s)"
