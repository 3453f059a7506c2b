using IdentityServer.Audit;
using IdentityServer.Protocol;

namespace IdentityServer.Admin;

/// <summary>The admin API for scopes and the resources (audiences) they open.</summary>
internal static class ScopesApi
{
    public static RouteGroupBuilder MapScopesApi(this RouteGroupBuilder api)
    {
        var scopes = api.MapGroup("/scopes").WithTags("Scopes");
        scopes.MapGet("", async (ScopeAdminService service, HttpContext context) =>
                TypedResults.Ok((await service.ListAsync(context.RequestAborted)).Select(ScopeModel.From).ToList()))
            .WithSummary("List the scopes admins defined (the built-in ones are not listed)").Produces<List<ScopeModel>>();
        scopes.MapPost("", CreateAsync).WithSummary("Create a scope")
            .Accepts<ScopeModel>("application/json").Produces<ScopeModel>(StatusCodes.Status201Created)
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status409Conflict);
        scopes.MapGet("/{name}", async (string name, ScopeAdminService service, HttpContext context) =>
                await service.GetAsync(name, context.RequestAborted) is { } scope ? TypedResults.Ok(ScopeModel.From(scope)) : AdminApiResults.NotFound("No such scope."))
            .WithSummary("Get a scope").Produces<ScopeModel>().Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        scopes.MapPut("/{name}", UpdateAsync).WithSummary("Replace a scope's display name, description and resources")
            .Accepts<ScopeModel>("application/json").Produces<ScopeModel>()
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        scopes.MapDelete("/{name}", async (string name, ScopeAdminService service, HttpContext context) =>
                AdminApiResults.From(await service.DeleteAsync(name, AdminActor.From(context.User), context.RequestAborted), _ => TypedResults.NoContent(), "No such scope."))
            .WithSummary("Delete a scope no client is allowed any more")
            .Produces(StatusCodes.Status204NoContent).Produces<ErrorResponse>(StatusCodes.Status404NotFound).Produces<ErrorResponse>(StatusCodes.Status409Conflict);
        return api;
    }

    private static async Task<IResult> CreateAsync(ScopeAdminService service, HttpContext context)
    {
        var (body, error) = await AdminApiResults.ReadJsonAsync<ScopeModel>(context.Request);
        if (error is not null)
        {
            return error;
        }

        var result = await service.CreateAsync(body!.ToDefinition(), AdminActor.From(context.User), context.RequestAborted);
        return AdminApiResults.From(result,
            scope => TypedResults.Created($"/admin/api/scopes/{Uri.EscapeDataString(scope.Name!)}", ScopeModel.From(scope)), "No such scope.");
    }

    private static async Task<IResult> UpdateAsync(string name, ScopeAdminService service, HttpContext context)
    {
        var (body, error) = await AdminApiResults.ReadJsonAsync<ScopeModel>(context.Request);
        if (error is not null)
        {
            return error;
        }

        var result = await service.UpdateAsync(name, body!.ToDefinition(), AdminActor.From(context.User), context.RequestAborted);
        return AdminApiResults.From(result, scope => TypedResults.Ok(ScopeModel.From(scope)), "No such scope.");
    }
}
