; Inno Setup script: per-user install without admin rights (partner staff on locked-down PCs).
;   iscc /DAppVersion=0.1.0 installer\pseudodesk.iss      (after: py installer\bootstrap.py build)
; Installs dist\pseudodesk\ into %LOCALAPPDATA%\Programs\pseudodesk, a Start-menu shortcut and an
; uninstaller. IT can install for all users from the command line:  /ALLUSERS  (admin needed then).
; Silent: pseudodesk-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART   (docs/deployment.md)

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
; A stable AppId: upgrades replace the same installation.
AppId={{6E0B3C1A-5B5E-4C5B-9C53-2B7F3E0D7A41}
AppName=pseudodesk
AppVersion={#AppVersion}
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
; The self-test proves the installed cryptography before anyone relies on it.
Filename: "{app}\pseudodesk-cli.exe"; Parameters: "selftest"; Flags: runhidden waituntilterminated; StatusMsg: "Checking the installation..."
Filename: "{app}\pseudodesk.exe"; Description: "Open pseudodesk"; Flags: nowait postinstall skipifsilent
