; Inno Setup script: per-user install without admin rights (partner staff on locked-down PCs).
;   iscc /DAppVersion=1.2.3 /DFileVersion=1.2.3.57 installer\pseudodesk.iss   (after: py installer\bootstrap.py build)
; Both versions come from pyproject.toml and the CI build number: py installer\versioning.py prints them.
; Installs dist\pseudodesk\ into %LOCALAPPDATA%\Programs\pseudodesk, a Start-menu shortcut and an
; uninstaller. IT can install for all users from the command line:  /ALLUSERS  (admin needed then).
; Silent: pseudodesk-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART   (docs/deployment.md)

#ifndef AppVersion
  #error Give the version: iscc /DAppVersion=... /DFileVersion=... (py installer\versioning.py prints them)
#endif
#ifndef FileVersion
  #error Give the file version: iscc /DFileVersion=major.minor.patch.build (py installer\versioning.py)
#endif

[Setup]
; A stable AppId: upgrades replace the same installation.
AppId={{6E0B3C1A-5B5E-4C5B-9C53-2B7F3E0D7A41}
AppName=pseudodesk
; Add or remove programs shows the build (1.2.3.57); the setup's own file version is the same.
AppVersion={#FileVersion}
AppVerName=pseudodesk {#AppVersion}
VersionInfoVersion={#FileVersion}
VersionInfoProductVersion={#FileVersion}
VersionInfoProductTextVersion={#AppVersion}
AppPublisher=pseudodesk
DefaultDirName={autopf}\pseudodesk
DefaultGroupName=pseudodesk
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline
OutputDir=..\dist
OutputBaseFilename=pseudodesk-{#AppVersion}-setup
SetupIconFile=pseudodesk.ico
UninstallDisplayIcon={app}\pseudodesk.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
#ifdef Sign
; The release job (iscc /DSign "/Spdsign=pwsh ... installer\sign.ps1 $f"): the setup and the
; uninstaller it writes are signed with Azure Trusted Signing, like every file in the folder.
SignTool=pdsign
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Files]
Source: "..\dist\pseudodesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Registry]
; Double-clicking an agreement package (.pdagreement) opens pseudodesk's install dialog.
; HKA is HKCU for a per-user install, HKLM with /ALLUSERS.
Root: HKA; Subkey: "Software\Classes\.pdagreement"; ValueType: string; ValueName: ""; ValueData: "pseudodesk.agreement"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\pseudodesk.agreement"; ValueType: string; ValueName: ""; ValueData: "pseudodesk agreement package"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\pseudodesk.agreement\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\pseudodesk.exe,0"
Root: HKA; Subkey: "Software\Classes\pseudodesk.agreement\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\pseudodesk.exe"" ""%1"""

[Icons]
Name: "{group}\pseudodesk"; Filename: "{app}\pseudodesk.exe"
Name: "{group}\pseudodesk demo"; Filename: "{app}\pseudodesk.exe"; Parameters: "--demo"
Name: "{group}\Uninstall pseudodesk"; Filename: "{uninstallexe}"

[Run]
; The self-test runs in [Code] below (CurStepChanged), where its exit code counts.
Filename: "{app}\pseudodesk.exe"; Description: "Open pseudodesk"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
Type: files; Name: "{app}\install-selftest.log"

[Code]
// An older release over a newer one is refused, as the MSI refuses it; another build of the same
// release, or an older release, is replaced in place (the AppId above never changes).
const
  UninstallKey = 'Software\Microsoft\Windows\CurrentVersion\Uninstall\{6E0B3C1A-5B5E-4C5B-9C53-2B7F3E0D7A41}_is1';
  ThisRelease = '{#AppVersion}';

function ReleaseOf(Version: String): String;
var
  I, Dots: Integer;
begin
  Result := Version;
  Dots := 0;
  for I := 1 to Length(Version) do
    if Version[I] = '.' then
    begin
      Dots := Dots + 1;
      if Dots = 3 then
      begin
        Result := Copy(Version, 1, I - 1);
        Exit;
      end;
    end;
end;

function InstalledVersion(var Version: String): Boolean;
begin
  Result := RegQueryStringValue(HKCU, UninstallKey, 'DisplayVersion', Version)
    or RegQueryStringValue(HKLM64, UninstallKey, 'DisplayVersion', Version)
    or RegQueryStringValue(HKLM32, UninstallKey, 'DisplayVersion', Version);
end;

function InitializeSetup(): Boolean;
var
  Installed: String;
  InstalledPacked, OursPacked: Int64;
  Notice: String;
begin
  Result := True;
  if InstalledVersion(Installed)
    and StrToVersion(ReleaseOf(Installed), InstalledPacked)
    and StrToVersion(ThisRelease, OursPacked)
    and (ComparePackedVersion(InstalledPacked, OursPacked) > 0) then
  begin
    Notice := 'A newer version of pseudodesk (' + Installed + ') is already installed on this computer. '
      + 'To go back to ' + ThisRelease + ', uninstall the newer one first.';
    Log(Notice);
    SuppressibleMsgBox(Notice, mbCriticalError, MB_OK, IDOK);
    Result := False;
  end;
end;

// The self-test counts: once the files are in place, the installed pseudodesk-cli proves its
// cryptography. A failure is written to the setup log (/LOG) and install-selftest.log beside the
// program, shown (unless /SUPPRESSMSGBOXES), and makes setup exit with code 10; pseudodesk itself
// then refuses exports, as its window runs the same self-test at every start.
const
  SelfTestFailedExitCode = 10;
var
  SelfTestFailed: Boolean;

procedure CurStepChanged(CurStep: TSetupStep);
var
  ResultCode: Integer;
  LogFile, Notice: String;
begin
  if CurStep <> ssPostInstall then
    Exit;
  LogFile := ExpandConstant('{app}\install-selftest.log');
  WizardForm.StatusLabel.Caption := 'Checking the installation...';
  if not Exec(ExpandConstant('{app}\pseudodesk-cli.exe'), 'selftest --log "' + LogFile + '"', '',
              SW_HIDE, ewWaitUntilTerminated, ResultCode) then
    Log('The self-test could not be started: ' + SysErrorMessage(ResultCode));
  if ResultCode = 0 then
  begin
    Log('pseudodesk self-test passed; its lines are in ' + LogFile);
    Exit;
  end;
  SelfTestFailed := True;
  Notice := 'pseudodesk''s self-test failed on this computer (code ' + IntToStr(ResultCode) + '): its '
    + 'cryptography did not give the known answers, so pseudodesk will refuse to export here. '
    + 'The details are in ' + LogFile + '. Please tell IT.';
  Log(Notice);
  SuppressibleMsgBox(Notice, mbCriticalError, MB_OK, IDOK);
end;

function GetCustomSetupExitCode(): Integer;
begin
  Result := 0;
  if SelfTestFailed then
    Result := SelfTestFailedExitCode;
end;
