export {
  demoTenantPath,
  loadDemoSeed,
  loadSeed,
  validateSeed,
  type AllowInvitesFrom,
  type PrincipalType,
  type SeedAppRoleAssignment,
  type SeedDirectoryRole,
  type SeedGroup,
  type SeedServicePrincipal,
  type SeedTenant,
  type SeedUser,
  type TenantSeed,
} from './seed';
export { startSimulator, type RunningSimulator, type SimulatorOptions } from './server';
export type { RequestLogEntry } from './requestLog';
export type { Handler, SimRequest, SimResponse, Stage, Visibility } from './pipeline';
export {
  FAULT_KINDS,
  mulberry32,
  validateFaultPlan,
  type FaultKind,
  type FaultPlan,
  type FaultRule,
  type FaultRuleStats,
  type FaultStats,
} from './faultPlan';
export { TeamsApps, personalChatId, type InstallationChange, type SeedTeamsApp, type SeedTeamsApps } from './teamsApps';
export {
  startTeamsDouble,
  type TeamsDouble,
  type TeamsDoubleOptions,
  type TeamsDoubleStats,
  type VisibleMessage,
  type ConnectorAttempt,
  type EventSwitches,
} from './teams';
